//! What the encoder's ImageNet head sees, in the words a caption would use.
//!
//! The 1,000 ImageNet classes are mapped to basic-level words through WordNet's hypernyms by
//! `tools/imagenet_words.py` (the table is `assets/imagenet_words.tsv`): a chickadee is a
//! "bird", all 118 dog breeds are "dog", an espresso is "coffee". The probabilities of classes
//! that share a word are summed, so the evidence for "dog" is the whole group's.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

/// The bundled class table (WordNet 3.0 hypernyms of the ILSVRC-2012 classes).
const BUNDLED_TABLE: &str = include_str!("../assets/imagenet_words.tsv");

/// ImageNet classes 0–397 are animals; 398 on are things, food, plants and places.
const FIRST_NON_ANIMAL: usize = 398;

/// Words that name a group's members without being the group word or a class name.
const ALIASES: &[(&str, &[&str])] = &[
    ("dog", &["puppy", "puppies"]),
    ("cat", &["kitten", "kittens", "kitty"]),
    ("horse", &["pony", "ponies", "foal"]),
];

/// One ImageNet class and the words for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectClass {
    /// WordNet id, e.g. "n01592084".
    pub wnid: String,
    /// The short name to say, e.g. "chickadee".
    pub name: String,
    /// "a", "an", or "" for mass nouns.
    pub article: String,
    /// The basic-level word it is counted under, e.g. "bird".
    pub group: String,
    /// Acceptable words, most specific first, e.g. ["chickadee", "titmouse", "bird"].
    pub words: Vec<String>,
    /// Whether it is an animal (its class index is below 398).
    pub animal: bool,
}

impl ObjectClass {
    /// The name with its article, e.g. "a chickadee", "an espresso".
    pub fn spoken(&self) -> String {
        if self.article.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.article, self.name)
        }
    }
}

/// The table of all classes, in the head's output order.
#[derive(Debug, Clone)]
pub struct ObjectTable {
    classes: Vec<ObjectClass>,
    /// Each group's words (see [`ObjectTable::group_words`]), worked out once.
    words_by_group: HashMap<String, Vec<String>>,
}

/// The evidence for one group word, summed over its classes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectGroup {
    /// The group word, e.g. "bird".
    pub word: String,
    /// Summed probability of the group's classes.
    pub prob: f32,
    /// The group's most probable class, as said ("a chickadee").
    pub top_class: String,
    /// That class's own probability.
    pub top_class_prob: f32,
    /// Whether the group is of animals.
    #[serde(skip)]
    pub animal: bool,
    /// Index of the top class in the table.
    #[serde(skip)]
    pub top_index: usize,
}

impl ObjectTable {
    /// The table compiled into the binary.
    pub fn bundled() -> &'static ObjectTable {
        static TABLE: OnceLock<ObjectTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            // The asset is ours and checked by a unit test; an unreadable row is dropped
            // rather than taking captioning down with it.
            ObjectTable::parse(BUNDLED_TABLE).unwrap_or_else(|_| ObjectTable::new(Vec::new()))
        })
    }

    /// Parses the tab-separated table: index, wnid, name, article, group, words (|), in_vocab.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut classes = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [index, wnid, name, article, group, words, ..] = cols[..] else {
                return Err(format!("line {}: expected at least 6 columns", n + 1));
            };
            let index: usize = index
                .parse()
                .map_err(|_| format!("line {}: bad class index {index:?}", n + 1))?;
            if index != classes.len() {
                return Err(format!(
                    "line {}: class {index} out of order (expected {})",
                    n + 1,
                    classes.len()
                ));
            }
            classes.push(ObjectClass {
                wnid: wnid.to_owned(),
                name: name.to_owned(),
                article: article.to_owned(),
                group: group.to_owned(),
                words: words
                    .split('|')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect(),
                animal: index < FIRST_NON_ANIMAL,
            });
        }
        Ok(Self::new(classes))
    }

    fn new(classes: Vec<ObjectClass>) -> Self {
        let mut table = Self {
            classes,
            words_by_group: HashMap::new(),
        };
        let groups: Vec<String> = table.classes.iter().map(|c| c.group.clone()).collect();
        for g in groups {
            if !table.words_by_group.contains_key(&g) {
                let words = table.collect_group_words(&g);
                table.words_by_group.insert(g, words);
            }
        }
        table
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// One class by index.
    pub fn class(&self, index: usize) -> Option<&ObjectClass> {
        self.classes.get(index)
    }

    /// Groups with their summed probabilities, most probable first. `probs` are the head's
    /// softmax outputs, one per class; extra or missing entries are ignored.
    pub fn evidence(&self, probs: &[f32]) -> Vec<ObjectGroup> {
        let mut groups: Vec<ObjectGroup> = Vec::new();
        let mut at: HashMap<&str, usize> = HashMap::new();
        for (index, (class, &p)) in self.classes.iter().zip(probs).enumerate() {
            let p = if p.is_finite() { p.max(0.0) } else { 0.0 };
            let slot = *at.entry(class.group.as_str()).or_insert_with(|| {
                groups.push(ObjectGroup {
                    word: class.group.clone(),
                    prob: 0.0,
                    top_class: class.spoken(),
                    top_class_prob: -1.0,
                    animal: class.animal,
                    top_index: index,
                });
                groups.len() - 1
            });
            let g = &mut groups[slot];
            g.prob += p;
            if p > g.top_class_prob {
                g.top_class_prob = p;
                g.top_class = class.spoken();
                g.top_index = index;
            }
        }
        groups.sort_by(|a, b| b.prob.total_cmp(&a.prob));
        groups
    }

    /// Every word that names a member of `group`: the group word, the words more specific
    /// than it in its classes' chains ("poodle", "chickadee"), aliases, and plurals.
    pub fn group_words(&self, group: &str) -> &[String] {
        self.words_by_group.get(group).map_or(&[], Vec::as_slice)
    }

    fn collect_group_words(&self, group: &str) -> Vec<String> {
        let mut words: Vec<String> = vec![group.to_owned()];
        for class in self.classes.iter().filter(|c| c.group == group) {
            for w in &class.words {
                if w == group {
                    break;
                }
                words.push(w.clone());
            }
        }
        if let Some((_, extra)) = ALIASES.iter().find(|(g, _)| *g == group) {
            words.extend(extra.iter().map(|w| (*w).to_owned()));
        }
        let mut all: Vec<String> = Vec::new();
        for w in words {
            for form in plurals(&w) {
                if !all.contains(&form) {
                    all.push(form);
                }
            }
        }
        all
    }
}

/// A word and its likely plural forms ("dog" → dog, dogs; "puppy" → puppy, puppies).
fn plurals(word: &str) -> Vec<String> {
    let mut out = vec![word.to_owned()];
    if word.contains(' ') {
        return out;
    }
    const IRREGULAR: &[(&str, &str)] = &[
        ("mouse", "mice"),
        ("goose", "geese"),
        ("wolf", "wolves"),
        ("knife", "knives"),
        ("leaf", "leaves"),
        ("person", "people"),
    ];
    if let Some((_, p)) = IRREGULAR.iter().find(|(s, _)| *s == word) {
        out.push((*p).to_owned());
    } else if let Some(stem) = word.strip_suffix('y').filter(|s| {
        s.chars()
            .last()
            .is_some_and(|c| !matches!(c, 'a' | 'e' | 'i' | 'o' | 'u'))
    }) {
        out.push(format!("{stem}ies"));
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| word.ends_with(e))
    {
        out.push(format!("{word}es"));
    } else {
        out.push(format!("{word}s"));
    }
    out
}

/// Softmax of logits (numerically stable); non-finite logits give probability 0.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return vec![0.0; logits.len()];
    }
    let exps: Vec<f32> = logits
        .iter()
        .map(|&x| if x.is_finite() { (x - max).exp() } else { 0.0 })
        .collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# test\n\
        0\tn1\tchickadee\ta\tbird\tchickadee|titmouse|bird\t1\n\
        1\tn2\tpoodle\ta\tdog\tpoodle|dog\t1\n\
        2\tn3\tbeagle\ta\tdog\tbeagle|dog\t1\n\
        3\tn4\tespresso\tan\tcoffee\tespresso|coffee|cup\t1\n";

    #[test]
    fn groups_sum_their_classes_and_keep_the_top_one() {
        let t = ObjectTable::parse(TABLE).unwrap();
        let ev = t.evidence(&[0.1, 0.3, 0.35, 0.25]);
        assert_eq!(ev[0].word, "dog");
        assert!((ev[0].prob - 0.65).abs() < 1e-6);
        assert_eq!(ev[0].top_class, "a beagle");
        assert_eq!(ev[1].word, "coffee");
        assert_eq!(ev[1].top_class, "an espresso");
        assert_eq!(ev[2].word, "bird");
    }

    #[test]
    fn group_words_hold_members_aliases_and_plurals_but_not_general_words() {
        let t = ObjectTable::parse(TABLE).unwrap();
        let dog = t.group_words("dog");
        for w in [
            "dog", "dogs", "poodle", "poodles", "beagle", "puppy", "puppies",
        ] {
            assert!(dog.contains(&w.to_owned()), "{w} missing from {dog:?}");
        }
        let coffee = t.group_words("coffee");
        assert!(coffee.contains(&"espresso".to_owned()));
        assert!(!coffee.contains(&"cup".to_owned()), "{coffee:?}");
    }

    #[test]
    fn bundled_table_has_every_class_and_dogs_in_one_group() {
        let t = ObjectTable::parse(BUNDLED_TABLE).unwrap();
        assert_eq!(t.len(), 1000);
        let dogs = t.classes.iter().filter(|c| c.group == "dog").count();
        assert!(dogs >= 110, "only {dogs} classes count as dog");
        let chickadee = t.classes.iter().find(|c| c.wnid == "n01592084").unwrap();
        assert_eq!(chickadee.group, "bird");
        assert!(t.class(0).unwrap().animal && !t.class(999).unwrap().animal);
    }

    #[test]
    fn softmax_sums_to_one_and_ignores_nan() {
        let p = softmax(&[1.0, 2.0, f32::NAN, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(p[2], 0.0);
        assert!(softmax(&[f32::NAN]).iter().all(|&x| x == 0.0));
    }
}
