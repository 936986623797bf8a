//! The "Where it looks" window: for each word of the caption, the part of the picture the
//! model reads it from (computed on the worker: the model's own attention when it has one,
//! else by occlusion), as a heat map over the picture for a sighted helper and in words for a
//! listener.
//!
//! Keys: Ctrl+L opens and closes it; Alt+Right and Alt+Left move to the next and previous
//! word and say where it looks (plain arrows move through the folder).

use std::sync::Arc;

use egui::{Color32, Key, KeyboardShortcut, Modifiers, Rect, RichText, Sense, Ui};
use image::DynamicImage;

use super::state::{AppState, CaptionState, Command};
use crate::inspect::occlusion::DEFAULT_GRID;
use crate::inspect::{LookMethod, Occlusion};
use crate::worker::LookJob;

/// Opens and closes the window.
pub(super) const TOGGLE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::L);
const NEXT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::ALT, Key::ArrowRight);
const PREVIOUS: KeyboardShortcut = KeyboardShortcut::new(Modifiers::ALT, Key::ArrowLeft);

/// The largest side of the heat map, in points.
const MAP_SIDE: f32 = 360.0;

/// What the maps shown were computed for: a picture (by its pixels' address, which stays put
/// while it is shown) and the caption looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Subject {
    image: usize,
    caption: String,
}

/// The window's state: open or not, the request in flight, the maps and the selected word.
#[derive(Default)]
pub(super) struct Looking {
    /// Whether the window is shown.
    pub(super) open: bool,
    next_id: u64,
    waiting: Option<u64>,
    subject: Option<Subject>,
    result: Option<Result<Occlusion, String>>,
    selected: usize,
    /// Say the summary once the maps arrive.
    announce: bool,
    /// Keys read before the app's shortcuts, acted on when the window is drawn.
    keys: Keys,
}

#[derive(Default)]
struct Keys {
    toggle: bool,
    next: bool,
    previous: bool,
}

/// What the window asks of the app after drawing.
#[derive(Default)]
pub(super) struct LookOutput {
    /// Commands for the app (speaking).
    pub(super) commands: Vec<Command>,
    /// A request for the worker.
    pub(super) job: Option<LookJob>,
}

impl Looking {
    /// Takes the worker's answer to the request with this id; older answers are dropped.
    pub(super) fn on_result(&mut self, id: u64, result: Result<Box<Occlusion>, String>) {
        if self.waiting == Some(id) {
            self.waiting = None;
            self.result = Some(result.map(|o| *o));
            self.selected = 0;
            self.announce = true;
        }
    }

    /// The maps, when they have arrived.
    fn maps(&self) -> Option<&Occlusion> {
        self.result.as_ref().and_then(|r| r.as_ref().ok())
    }

    /// "dog: looking at the upper left" for the selected word.
    fn selected_sentence(&self) -> Option<String> {
        let w = self.maps()?.words.get(self.selected)?;
        Some(format!("{}: {}", w.word, w.description))
    }
}

/// Every word that looks at one part, in order ("dog: the upper left. grass: the bottom."),
/// and the words that look at the whole picture after them, so a listener hears the parts first;
/// maps from the model's attention say so first.
pub(super) fn summary(o: &Occlusion) -> String {
    let (parts, whole): (Vec<_>, Vec<_>) = o
        .words
        .iter()
        .partition(|w| w.region != crate::inspect::Region::Whole);
    let mut said: Vec<String> = parts
        .iter()
        .map(|w| format!("{}: {}.", w.word, w.region.words()))
        .collect();
    if !whole.is_empty() {
        let words: Vec<&str> = whole.iter().map(|w| w.word.as_str()).collect();
        said.push(format!("The whole picture: {}.", words.join(", ")));
    }
    match o.method {
        LookMethod::Attention => format!(
            "Where it looks. {} {}",
            o.method.sentence(o.grid),
            said.join(" ")
        ),
        LookMethod::Occlusion => format!("Where it looks. {}", said.join(" ")),
    }
}

/// The picture shown and its best caption, when both are there.
fn subject(state: &AppState) -> Option<(Arc<DynamicImage>, String)> {
    let image = state.shown.as_ref()?.image.clone()?;
    let CaptionState::Ready(d) = &state.caption else {
        return None;
    };
    let caption = d.captioned.best()?.text.clone();
    (!caption.is_empty()).then_some((image, caption))
}

/// Takes the window's keys before the app's own shortcuts see them: egui matches Alt+Right
/// to a plain Right shortcut, which moves through the folder.
pub(super) fn read_keys(ctx: &egui::Context, looking: &mut Looking) {
    ctx.input_mut(|i| {
        looking.keys.toggle |= i.consume_shortcut(&TOGGLE);
        if looking.open {
            looking.keys.next |= i.consume_shortcut(&NEXT);
            looking.keys.previous |= i.consume_shortcut(&PREVIOUS);
        }
    });
}

/// Acts on the window's keys, asks the worker for the maps of a new picture, and draws the
/// window when it is open.
pub(super) fn looking_ui(
    ctx: &egui::Context,
    looking: &mut Looking,
    state: &AppState,
) -> LookOutput {
    let mut out = LookOutput::default();
    let Keys {
        toggle,
        next,
        previous,
    } = std::mem::take(&mut looking.keys);
    if toggle {
        looking.open = !looking.open;
        looking.announce = looking.open;
    }
    if !looking.open {
        return out;
    }
    let current = subject(state);
    let key = current.as_ref().map(|(image, caption)| Subject {
        image: Arc::as_ptr(image) as usize,
        caption: caption.clone(),
    });
    if key != looking.subject {
        looking.subject = key;
        looking.result = None;
        looking.selected = 0;
        looking.waiting = None;
        if let Some((image, caption)) = current {
            looking.next_id += 1;
            looking.waiting = Some(looking.next_id);
            out.job = Some(LookJob {
                id: looking.next_id,
                image,
                caption,
                grid: DEFAULT_GRID,
            });
        }
    }
    let count = looking.maps().map_or(0, |o| o.words.len());
    if count > 0 && (next || previous) {
        looking.selected = if next {
            (looking.selected + 1).min(count - 1)
        } else {
            looking.selected.saturating_sub(1)
        };
        out.commands
            .extend(looking.selected_sentence().map(Command::SpeakLine));
    }
    if looking.announce {
        if let Some(o) = looking.maps() {
            out.commands.push(Command::SpeakLine(summary(o)));
            looking.announce = false;
        } else if let Some(Err(message)) = &looking.result {
            out.commands.push(Command::SpeakLine(message.clone()));
            looking.announce = false;
        }
    }
    let mut open = true;
    egui::Window::new("Where it looks")
        .open(&mut open)
        .collapsible(false)
        .default_width(MAP_SIDE + 40.0)
        .show(ctx, |ui| window_ui(ui, looking, state, &mut out));
    if !open {
        looking.open = false;
    }
    out
}

fn window_ui(ui: &mut Ui, looking: &mut Looking, state: &AppState, out: &mut LookOutput) {
    match (&looking.result, looking.waiting, &looking.subject) {
        (_, _, None) => {
            ui.label("Open a picture: when it is described, this shows where the model looks for each word.");
        }
        (None, Some(_), _) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Finding where the model looks…");
            });
        }
        (Some(Err(message)), _, _) => {
            ui.label(format!("Cannot tell where the model looks: {message}"));
        }
        (Some(Ok(_)), _, _) | (None, None, Some(_)) => {}
    }
    let Some(o) = looking.maps() else {
        return;
    };
    let count = o.words.len();
    let selected = looking.selected.min(count.saturating_sub(1));
    let Some(word) = o.words.get(selected) else {
        return;
    };
    let sentence = format!("{}: {}", word.word, word.description);
    ui.label(RichText::new(&sentence).heading());
    if o.method == LookMethod::Attention {
        ui.label(o.method.sentence(o.grid));
    }
    if let Some(texture) = state.shown.as_ref().and_then(|s| s.texture.as_ref()) {
        heat_map_ui(ui, texture, &word.map, &sentence);
    }
    ui.label("Alt+Right and Alt+Left: next and previous word. Darker parts matter less.");
    let mut clicked = None;
    ui.horizontal_wrapped(|ui| {
        for (i, w) in o.words.iter().enumerate() {
            let label = format!("{}: {}", w.word, w.region.words());
            let response = ui
                .add(egui::Button::selectable(i == selected, w.word.as_str()))
                .on_hover_text(format!("{label} (probability {:.0}%)", 100.0 * w.prob));
            response.widget_info(|| {
                egui::WidgetInfo::selected(
                    egui::accesskit::Role::Button,
                    true,
                    i == selected,
                    &label,
                )
            });
            if response.clicked() {
                clicked = Some(i);
            }
        }
    });
    if let Some(i) = clicked {
        looking.selected = i;
        out.commands
            .extend(looking.selected_sentence().map(Command::SpeakLine));
    }
}

/// The picture with each cell darkened by how little it matters to the word and tinted by how
/// much it does; its accessible name says the same in words.
fn heat_map_ui(ui: &mut Ui, texture: &egui::TextureHandle, map: &[Vec<f32>], sentence: &str) {
    let tex = texture.size_vec2();
    if tex.x <= 0.0 || tex.y <= 0.0 {
        return;
    }
    let size = tex * (MAP_SIDE / tex.x.max(tex.y));
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::accesskit::Role::Image,
            true,
            format!("Heat map of where the model looks for {sentence}"),
        )
    });
    if !ui.is_rect_visible(rect) {
        return;
    }
    let painter = ui.painter_at(rect);
    let uv = Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    painter.image(texture.id(), rect, uv, Color32::WHITE);
    let rows = map.len();
    let peak = map.iter().flatten().fold(0f32, |a, &b| a.max(b));
    if rows == 0 || peak <= 0.0 {
        return;
    }
    for (r, row) in map.iter().enumerate() {
        let cols = row.len().max(1);
        for (c, &v) in row.iter().enumerate() {
            let cell = Rect::from_min_max(
                rect.lerp_inside(egui::vec2(c as f32 / cols as f32, r as f32 / rows as f32)),
                rect.lerp_inside(egui::vec2(
                    (c + 1) as f32 / cols as f32,
                    (r + 1) as f32 / rows as f32,
                )),
            );
            let heat = (v / peak).clamp(0.0, 1.0);
            let shade = Color32::from_black_alpha((170.0 * (1.0 - heat)) as u8);
            painter.rect_filled(cell, 0.0, shade);
            let tint = Color32::from_rgba_unmultiplied(255, 140, 0, (90.0 * heat) as u8);
            painter.rect_filled(cell, 0.0, tint);
        }
    }
}
