//! The sentence seesay speaks for a photo: the caption, the object the head is sure of, and
//! words (never percentages) for how sure it is.

use crate::confidence::Certainty;
use crate::objects::ObjectGroup;

/// From this class probability on, the photo's object is named by its own name ("It looks
/// like a chickadee"); below it, by its group word when the caption cannot say it.
pub const NAME_CLASS_MIN: f32 = 0.4;
/// From this group probability on, the group is named when the caption lacks it.
pub const NAME_GROUP_MIN: f32 = 0.5;
/// From this group probability on, the group is offered as a possibility ("It may be a bird").
pub const NAME_WEAK_MIN: f32 = 0.25;

/// "a dog runs on the grass" → "A dog runs on the grass."
pub fn sentence_case(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// "a elephant" → "an elephant": the decoder, and guidance that puts an object word after
/// its "a", do not always agree the article with the word after it.
pub fn agree_articles(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let next = words
            .get(i + 1)
            .map(|n| n.to_lowercase())
            .unwrap_or_default();
        let vowel_sound = next.starts_with(['a', 'e', 'i', 'o', 'u'])
            && !["uni", "use", "usu", "eu", "one", "once"]
                .iter()
                .any(|p| next.starts_with(p));
        out.push(match *w {
            "a" if vowel_sound => "an",
            "A" if vowel_sound => "An",
            other => other,
        });
    }
    out.join(" ")
}

/// Whether `text` holds `phrase` as whole words (case-insensitive).
fn mentions(text: &str, phrase: &str) -> bool {
    let words: Vec<String> = words(text);
    let target: Vec<String> = words_of(phrase);
    !target.is_empty() && words.windows(target.len()).any(|w| w == target.as_slice())
}

fn words(text: &str) -> Vec<String> {
    words_of(text)
        .into_iter()
        .map(|w| w.trim_end_matches('s').to_owned())
        .collect()
}

fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// What to say of the object, when the caption does not already say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectNote {
    /// The object with its article: "a chickadee", or the group word ("a bird") when only
    /// the group is likely.
    pub name: String,
    /// Whether the head is sure enough to say "It looks like" rather than "It may be".
    pub strong: bool,
}

/// The object worth naming: the top class when likely ("a chickadee"), the group when the
/// group is likely but no class is ("a bird"), a weaker "may be" from [`NAME_WEAK_MIN`] on.
pub fn object_note(caption: &str, objects: &[ObjectGroup]) -> Option<ObjectNote> {
    let top = objects.first()?;
    let class = top.top_class.as_str();
    let bare = class
        .strip_prefix("a ")
        .or_else(|| class.strip_prefix("an "))
        .unwrap_or(class);
    let trimmed_caption = words(caption).join(" ");
    let names = |p: &str| mentions(&trimmed_caption, &words(p).join(" "));
    if top.top_class_prob >= NAME_CLASS_MIN {
        return (!names(bare)).then(|| ObjectNote {
            name: class.to_owned(),
            strong: true,
        });
    }
    if names(&top.word) || names(bare) {
        return None;
    }
    if top.prob >= NAME_GROUP_MIN {
        return Some(ObjectNote {
            name: with_article(&top.word),
            strong: true,
        });
    }
    (top.prob >= NAME_WEAK_MIN).then(|| ObjectNote {
        name: with_article(&top.word),
        strong: false,
    })
}

/// "bird" → "a bird", "owl" → "an owl".
fn with_article(word: &str) -> String {
    let vowel = word
        .chars()
        .next()
        .is_some_and(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u'));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// The whole sentence for a photo.
///
/// When the head is sure of an object that the caption does not even name by its group (a
/// zebra captioned "a man is standing in front of a tree"), the object comes first and the
/// caption is offered as a guess: the part most likely to be right is heard first.
pub fn photo(caption: &str, objects: &[ObjectGroup], certainty: Certainty) -> String {
    let note = object_note(caption, objects);
    let said = sentence_case(&agree_articles(caption));
    let caption_names_group = objects.first().is_some_and(|top| {
        let trimmed_caption = words(caption).join(" ");
        mentions(&trimmed_caption, &words(&top.word).join(" "))
    });
    let tail = |n: &ObjectNote| {
        if n.strong {
            format!(" It looks like {}.", n.name)
        } else {
            format!(" It may be {}.", n.name)
        }
    };
    match (certainty, note) {
        (Certainty::Sure | Certainty::Probably, Some(n)) if n.strong && !caption_names_group => {
            let lead = if certainty == Certainty::Sure {
                "It looks like"
            } else {
                "It may be"
            };
            format!("{lead} {}. Perhaps {}", n.name, lower_first(&said))
        }
        (Certainty::Sure, None) => said,
        (Certainty::Sure, Some(n)) => format!("{said}{}", tail(&n)),
        (Certainty::Probably, None) => format!("Probably {}", lower_first(&said)),
        (Certainty::Probably, Some(n)) => format!("Probably {}{}", lower_first(&said), tail(&n)),
        (Certainty::Unsure, None) => format!("I'm not sure. Perhaps {}", lower_first(&said)),
        (Certainty::Unsure, Some(n)) => {
            format!(
                "I'm not sure. It may be {}. Perhaps {}",
                n.name,
                lower_first(&said)
            )
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => format!("{}{}", c.to_lowercase(), chars.as_str()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(word: &str, prob: f32, class: &str, class_prob: f32) -> ObjectGroup {
        ObjectGroup {
            word: word.into(),
            prob,
            top_class: class.into(),
            top_class_prob: class_prob,
            animal: true,
            top_index: 0,
        }
    }

    #[test]
    fn a_confident_class_is_named_unless_the_caption_says_it() {
        let g = [group("bird", 0.95, "a chickadee", 0.93)];
        assert_eq!(
            photo("a bird sits on a branch", &g, Certainty::Sure),
            "A bird sits on a branch. It looks like a chickadee."
        );
        assert_eq!(
            photo("a chickadee sits on a branch", &g, Certainty::Sure),
            "A chickadee sits on a branch."
        );
    }

    #[test]
    fn a_confident_group_without_a_sure_class_is_named_when_missing() {
        let g = [group("dog", 0.9, "a beagle", 0.2)];
        assert_eq!(
            photo("two dogs play", &g, Certainty::Sure),
            "Two dogs play."
        );
        assert_eq!(
            photo("a man runs", &g, Certainty::Sure),
            "It looks like a dog. Perhaps a man runs."
        );
        let group_only = [group("bird", 0.7, "a goldfinch", 0.2)];
        assert_eq!(
            photo("a man runs", &group_only, Certainty::Sure),
            "It looks like a bird. Perhaps a man runs."
        );
        let weak = [group("owl", 0.3, "a great grey owl", 0.1)];
        assert_eq!(
            photo("a man runs", &weak, Certainty::Sure),
            "A man runs. It may be an owl."
        );
        let none = [group("dog", 0.2, "a beagle", 0.1)];
        assert_eq!(photo("a man runs", &none, Certainty::Sure), "A man runs.");
    }

    #[test]
    fn articles_agree_with_the_next_word() {
        assert_eq!(
            agree_articles("a elephant is near a uniform and a owl"),
            "an elephant is near a uniform and an owl"
        );
        assert_eq!(
            photo("a elephant walks", &[], Certainty::Sure),
            "An elephant walks."
        );
    }

    #[test]
    fn certainty_is_said_in_words() {
        let g = [group("coffee", 0.95, "an espresso", 0.91)];
        assert_eq!(
            photo("a cup of coffee on a table", &g, Certainty::Probably),
            "Probably a cup of coffee on a table. It looks like an espresso."
        );
        assert_eq!(
            photo("a man stands by a tree", &g, Certainty::Probably),
            "It may be an espresso. Perhaps a man stands by a tree."
        );
        assert_eq!(
            photo("a cup on a table", &g, Certainty::Unsure),
            "I'm not sure. It may be an espresso. Perhaps a cup on a table."
        );
        assert_eq!(
            photo("a man runs", &[], Certainty::Unsure),
            "I'm not sure. Perhaps a man runs."
        );
    }
}
