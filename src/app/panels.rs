//! Drawing the window. Each `*_ui` function draws one part and returns the commands its
//! controls asked for; nothing here acts on the world.

use std::path::Path;

use egui::accesskit::{Live, Role};
use egui::{Align, Color32, Layout, Rect, RichText, Ui, UiBuilder, Vec2};

use super::settings::{SpeakWith, Theme};
use super::state::{AppState, CaptionState, Command, MessageKind, ModelState, Nav, Strip, Thumb};
use super::theme::prob_color;
use crate::describer::Description;
use crate::guided::Constraint;
use crate::kind::PictureKind;
use crate::ocr::Reading;

/// The shortcuts, for the Help panel.
pub(super) const SHORTCUTS: &[(&str, &str)] = &[
    ("Ctrl+O", "Open a picture"),
    ("Ctrl+Shift+O", "Open a folder of pictures"),
    ("Ctrl+V", "Paste a picture, or a copied image file"),
    (
        "Ctrl+Shift+S",
        "Take a screenshot (the window hides itself)",
    ),
    (
        "Ctrl+Shift+W",
        "Describe the active window (the window hides itself)",
    ),
    ("Ctrl+Alt+S", "Describe the screen, from any program (X11)"),
    (
        "Ctrl+Alt+W",
        "Describe the active window, from any program (X11)",
    ),
    ("F5", "Speak the caption again"),
    ("Escape", "Stop speaking; close panels"),
    ("Ctrl+C", "Copy the caption (for alt text)"),
    ("Right / Down", "Next picture in the folder"),
    ("Left / Up", "Previous picture in the folder"),
    ("Page Down / Page Up", "Ten pictures on / back"),
    ("Home / End", "First / last picture"),
    ("Ctrl+Plus / Ctrl+Minus", "Zoom everything in / out"),
    ("Ctrl+L", "Where it looks: open or close"),
    (
        "Alt+Right / Alt+Left",
        "Where it looks: next / previous word",
    ),
    ("Ctrl+Comma", "Settings"),
    ("F1", "This help"),
    (
        "Tab / Shift+Tab",
        "Move between controls; Space or Enter presses",
    ),
];

/// Draws the whole window.
pub(super) fn app_ui(ui: &mut Ui, state: &mut AppState) -> Vec<Command> {
    let mut commands = Vec::new();
    egui::Panel::top("toolbar").show(ui, |ui| commands.extend(toolbar_ui(ui, state)));
    // Right after the toolbar, so the caption is the first thing a screen reader meets.
    egui::Panel::top("caption").show(ui, |ui| commands.extend(caption_panel_ui(ui, state)));
    egui::Panel::bottom("status").show(ui, |ui| status_ui(ui, state));
    if state.folder.is_some() {
        egui::Panel::bottom("browse").show(ui, |ui| commands.extend(browse_ui(ui, state)));
    } else {
        state.strip.wanted.clear();
    }
    if let CaptionState::Ready(description) = &state.caption {
        let description = description.clone();
        // Capped, so long captions wrap instead of pushing the picture off the window.
        let max = (ui.available_width() * 0.45).max(260.0);
        egui::Panel::right("details")
            .resizable(true)
            .default_size(400.0_f32.min(max))
            .size_range(260.0..=max)
            .show(ui, |ui| commands.extend(details_ui(ui, &description)));
    }
    egui::CentralPanel::default().show(ui, |ui| commands.extend(main_ui(ui, state)));
    if state.show_help {
        commands.extend(help_ui(ui.ctx(), state));
    }
    if state.show_settings {
        commands.extend(settings_ui(ui.ctx(), state));
    }
    drop_hint_ui(ui.ctx());
    commands
}

fn toolbar_ui(ui: &mut Ui, state: &mut AppState) -> Vec<Command> {
    let mut out = Vec::new();
    ui.add_space(4.0);
    ui.horizontal_wrapped(|ui| {
        let mut button = |ui: &mut Ui, label: &str, hint: &str, cmd: Command| {
            if ui.button(label).on_hover_text(hint).clicked() {
                out.push(cmd);
            }
        };
        button(ui, "Open…", "Open a picture (Ctrl+O)", Command::OpenDialog);
        button(
            ui,
            "Open folder…",
            "Browse a folder of pictures (Ctrl+Shift+O)",
            Command::OpenFolderDialog,
        );
        button(
            ui,
            "Paste",
            "Paste a picture or a copied image file (Ctrl+V)",
            Command::Paste,
        );
        button(
            ui,
            "Screenshot",
            "Describe the screen; this window hides meanwhile (Ctrl+Shift+S)",
            Command::Screenshot,
        );
        button(
            ui,
            "Describe window",
            "Describe the active window, not this one; this window hides meanwhile \
             (Ctrl+Shift+W)",
            Command::ScreenshotWindow,
        );
        ui.separator();
        button(ui, "Speak", "Speak the caption again (F5)", Command::Speak);
        button(ui, "Stop", "Stop speaking (Escape)", Command::StopSpeech);
        button(
            ui,
            "Copy caption",
            "Copy the caption as alt text (Ctrl+C)",
            Command::CopyCaption,
        );
        ui.checkbox(&mut state.settings.auto_speak, "Auto-speak")
            .on_hover_text("Speak each caption as soon as it is ready");
        // Inline, not right-aligned: in a wrapping row a right-aligned group is drawn over the
        // buttons before it when the window is narrow.
        button(
            ui,
            "Settings",
            "Beam size, voice, theme and text size (Ctrl+Comma)",
            Command::ToggleSettings,
        );
        button(ui, "Help", "Keyboard shortcuts (F1)", Command::ToggleHelp);
    });
    ui.add_space(2.0);
    out
}

fn status_ui(ui: &mut Ui, state: &AppState) {
    ui.horizontal_wrapped(|ui| {
        let model = match &state.model {
            ModelState::Loading => "Model: loading…".to_owned(),
            ModelState::Ready { name, device } => format!("Model: {name} on {device}"),
            ModelState::Failed(_) => "Model: not loaded".to_owned(),
        };
        ui.label(model);
        ui.separator();
        if let Some(t) = &state.timings {
            ui.label(format!(
                "Last caption: encode {:.0} ms, beam {:.0} ms",
                t.encode_ms, t.beam_ms
            ));
            ui.separator();
        }
        if let Some(reason) = &state.speech_unavailable {
            ui.label("Speech: unavailable").on_hover_text(reason);
            ui.separator();
        }
        ui.label(format!("State: {}", state.activity()));
    });
}

fn browse_ui(ui: &mut Ui, state: &mut AppState) -> Vec<Command> {
    let mut out = Vec::new();
    // The shown picture's caption ("" until there is one), for its thumbnail's description
    // when a screen reader is to speak (see thumb_ui).
    let caption = state.announces_to_screen_reader().then(|| {
        let text = state.caption_text().unwrap_or_default();
        let renamed = state.window_renamed;
        state.bus_thumb_caption.get(&text, renamed, ui.ctx())
    });
    let Some(folder) = &state.folder else {
        state.strip.wanted.clear();
        return out;
    };
    ui.add_space(4.0);
    let strip = &mut state.strip;
    if let Some(i) = strip_ui(ui, &folder.images, folder.index, caption.as_deref(), strip) {
        out.push(Command::Navigate(Nav::To(i)));
    }
    ui.add_space(2.0);
    ui.horizontal(|ui| {
        let at_start = folder.index == 0;
        let at_end = folder.index + 1 >= folder.images.len();
        if ui
            .add_enabled(!at_start, egui::Button::new("First"))
            .on_hover_text("First picture (Home)")
            .clicked()
        {
            out.push(Command::Navigate(Nav::First));
        }
        if ui
            .add_enabled(!at_start, egui::Button::new("Previous"))
            .on_hover_text("Previous picture (Left arrow)")
            .clicked()
        {
            out.push(Command::Navigate(Nav::Previous));
        }
        ui.label(RichText::new(folder.position()).strong());
        if ui
            .add_enabled(!at_end, egui::Button::new("Next"))
            .on_hover_text("Next picture (Right arrow)")
            .clicked()
        {
            out.push(Command::Navigate(Nav::Next));
        }
        if ui
            .add_enabled(!at_end, egui::Button::new("Last"))
            .on_hover_text("Last picture (End)")
            .clicked()
        {
            out.push(Command::Navigate(Nav::Last));
        }
        if let Some(shown) = &state.shown {
            ui.separator();
            ui.label(&shown.label);
        }
    });
    ui.add_space(2.0);
    out
}

/// A thumbnail's cell (points): the picture fits inside it, less a small margin.
const CELL: Vec2 = Vec2::new(120.0, 88.0);
const CELL_GAP: f32 = 6.0;
/// Thumbnails decoded ahead on each side of the visible ones.
const STRIP_AHEAD: usize = 4;

/// The folder's thumbnails in a horizontal strip, the current one highlighted and scrolled into
/// view. Only the visible cells are drawn, and only their thumbnails (and a few either side) are
/// asked for, so a folder of thousands costs no more than one of ten. `caption` is the shown
/// picture's caption when a screen reader is to hear it. Returns the thumbnail clicked.
fn strip_ui(
    ui: &mut Ui,
    images: &[std::path::PathBuf],
    index: usize,
    caption: Option<&str>,
    strip: &mut Strip,
) -> Option<usize> {
    let n = images.len();
    let step = CELL.x + CELL_GAP;
    let total = (n as f32 * step - CELL_GAP).max(0.0);
    let mut area = egui::ScrollArea::horizontal()
        .id_salt("thumbnail-strip")
        .auto_shrink([false, true]);
    if strip.scrolled_to != Some(index) {
        let (offset, width) = strip.view;
        let width = if width > 0.0 {
            width
        } else {
            ui.available_width()
        };
        let left = index as f32 * step;
        let hidden = left < offset || left + CELL.x > offset + width;
        if strip.scrolled_to.is_none() || hidden {
            let centred = left + CELL.x / 2.0 - width / 2.0;
            area = area.horizontal_scroll_offset(centred.clamp(0.0, (total - width).max(0.0)));
        }
        strip.scrolled_to = Some(index);
    }
    let mut clicked = None;
    let output = area.show_viewport(ui, |ui, viewport| {
        ui.set_min_size(Vec2::new(total, CELL.y));
        let origin = ui.max_rect().min;
        let first = ((viewport.min.x / step).floor().max(0.0) as usize).min(n);
        let end = ((viewport.max.x / step).ceil().max(0.0) as usize)
            .min(n)
            .max(first);
        for (i, path) in images.iter().enumerate().take(end).skip(first) {
            let rect = Rect::from_min_size(origin + Vec2::new(i as f32 * step, 0.0), CELL);
            let look = ThumbLook {
                current: i == index,
                description: caption.map(|c| if i == index { c } else { "" }),
            };
            if thumb_ui(ui, rect, i, n, path, strip.get(path), look).clicked() {
                clicked = Some(i);
            }
        }
        first..end
    });
    strip.view = (output.state.clamped_offset().x, output.inner_rect.width());

    // Ask for the thumbnails on screen, nearest the current picture first, then a few ahead.
    let visible = output.inner;
    let lo = visible.start.saturating_sub(STRIP_AHEAD);
    let hi = (visible.end + STRIP_AHEAD).min(n);
    let mut wanted: Vec<usize> = (lo..hi)
        .filter(|&i| !strip.thumbs.contains_key(&images[i]))
        .collect();
    wanted.sort_by_key(|&i| (!visible.contains(&i), i.abs_diff(index)));
    strip.wanted = wanted.into_iter().map(|i| images[i].clone()).collect();
    clicked
}

/// The id of the `i`th thumbnail (0-based), the same every frame.
pub(super) fn thumb_id(i: usize) -> egui::Id {
    egui::Id::unique(("seesay-thumbnail", i))
}

/// Whether a thumbnail is the shown picture's, and its description on the accessibility tree:
/// `None` leaves egui's (the hover text).
#[derive(Clone, Copy)]
struct ThumbLook<'a> {
    current: bool,
    description: Option<&'a str>,
}

/// One thumbnail: a button named "Picture 3 of 12: beach.jpg", selected when it is shown.
fn thumb_ui(
    ui: &mut Ui,
    rect: Rect,
    i: usize,
    n: usize,
    path: &Path,
    thumb: Option<&Thumb>,
    look: ThumbLook<'_>,
) -> egui::Response {
    let current = look.current;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let response = ui.interact(rect, thumb_id(i), egui::Sense::click());
    let label = format!("Picture {} of {n}: {name}", i + 1);
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::accesskit::Role::Button, true, current, &label)
    });
    ui.ctx().accesskit_node_builder(response.id, |node| {
        if current {
            node.set_selected(true);
        }
        // With a screen reader, the shown thumbnail's description is its caption and the
        // others' is empty: when the arrows move the focus along the strip, Orca 43 speaks the
        // new thumbnail and then its caption, a description change of the focused item (the
        // caption's own name change is not spoken, it has not the focus). Empty rather than
        // the file name, which Orca would say when the thumbnail it leaves loses the caption.
        if let Some(description) = look.description {
            node.set_description(description);
        }
    });
    if ui.is_rect_visible(rect) {
        let visuals = ui.visuals();
        let painter = ui.painter();
        let fill = if current {
            visuals.selection.bg_fill.gamma_multiply(0.6)
        } else if response.hovered() {
            visuals.widgets.hovered.weak_bg_fill
        } else {
            visuals.faint_bg_color
        };
        painter.rect_filled(rect, 6.0, fill);
        let inner = rect.shrink(6.0);
        match thumb {
            Some(Thumb::Ready(texture)) => {
                let size = texture.size_vec2();
                let scale = (inner.width() / size.x)
                    .min(inner.height() / size.y)
                    .min(1.0);
                let image_rect = Rect::from_center_size(inner.center(), size * scale);
                painter.image(
                    texture.id(),
                    image_rect,
                    Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
            }
            Some(Thumb::Failed) => {
                painter.text(
                    inner.center(),
                    egui::Align2::CENTER_CENTER,
                    "No preview",
                    egui::TextStyle::Small.resolve(ui.style()),
                    visuals.weak_text_color(),
                );
            }
            None => {
                egui::Spinner::new().size(18.0).paint_at(
                    ui,
                    Rect::from_center_size(inner.center(), Vec2::splat(18.0)),
                );
            }
        }
        let stroke = if current {
            egui::Stroke::new(3.0, visuals.selection.stroke.color)
        } else if response.hovered() {
            visuals.widgets.hovered.bg_stroke
        } else {
            egui::Stroke::NONE
        };
        painter.rect_stroke(rect, 6.0, stroke, egui::StrokeKind::Inside);
        if response.has_focus() {
            let focus = egui::Stroke::new(2.0, visuals.strong_text_color());
            painter.rect_stroke(rect.expand(1.0), 7.0, focus, egui::StrokeKind::Outside);
        }
    }
    let hint = match thumb {
        Some(Thumb::Failed) => format!("{name} (cannot show a preview)"),
        _ => name,
    };
    response.on_hover_text(hint)
}

fn main_ui(ui: &mut Ui, state: &mut AppState) -> Vec<Command> {
    image_ui(ui, state);
    Vec::new()
}

/// The caption, then the message. The caption is one label that keeps its node from picture to
/// picture (it is the panel's first widget, so its id never changes): a screen reader hears a
/// new caption as a change of that node, announced because the node is a live region.
fn caption_panel_ui(ui: &mut Ui, state: &mut AppState) -> Vec<Command> {
    let mut out = Vec::new();
    ui.add_space(4.0);
    caption_ui(ui, state);
    out.extend(typed_path_ui(ui, state));
    if let Some(message) = &state.message {
        ui.add_space(4.0);
        let (fill, text) = match (message.kind, ui.visuals().dark_mode) {
            (MessageKind::Error, true) => (Color32::from_rgb(90, 20, 20), Color32::WHITE),
            (MessageKind::Error, false) => (Color32::from_rgb(255, 225, 225), Color32::BLACK),
            (MessageKind::Info, true) => (Color32::from_rgb(20, 50, 90), Color32::WHITE),
            (MessageKind::Info, false) => (Color32::from_rgb(220, 235, 255), Color32::BLACK),
        };
        egui::Frame::new()
            .fill(fill)
            .corner_radius(6.0)
            .inner_margin(10.0)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    if ui
                        .button("Dismiss")
                        .on_hover_text("Hide this message")
                        .clicked()
                    {
                        out.push(Command::DismissMessage);
                    }
                    let prefix = if message.kind == MessageKind::Error {
                        "Problem: "
                    } else {
                        ""
                    };
                    let response = ui.add(
                        egui::Label::new(
                            RichText::new(format!("{prefix}{}", message.text)).color(text),
                        )
                        .wrap(),
                    );
                    if state.announces_to_screen_reader() {
                        let live = if message.kind == MessageKind::Error {
                            Live::Assertive
                        } else {
                            Live::Polite
                        };
                        ui.ctx()
                            .accesskit_node_builder(response.id, |node| node.set_live(live));
                    }
                });
            });
    }
    ui.add_space(4.0);
    out
}

/// The field for typing a path, shown when no file dialog could be opened.
fn typed_path_ui(ui: &mut Ui, state: &mut AppState) -> Vec<Command> {
    let mut out = Vec::new();
    let Some(typed) = &mut state.typed_path else {
        return out;
    };
    ui.add_space(4.0);
    ui.horizontal_wrapped(|ui| {
        let what = if typed.folder { "folder" } else { "picture" };
        let l = ui.label(format!("Path of the {what} to open:"));
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut typed.text)
                    .desired_width(420.0)
                    .hint_text("for example ~/Pictures/photo.jpg"),
            )
            .labelled_by(l.id);
        if std::mem::take(&mut typed.focus) {
            field.request_focus();
        }
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Open").clicked() || entered {
            out.push(Command::OpenTypedPath);
        }
        if ui.button("Cancel").clicked() {
            out.push(Command::CancelTypedPath);
        }
    });
    out
}

/// What the caption line says, and whether work is under way.
fn caption_line(state: &AppState) -> (String, bool) {
    let loading = matches!(state.model, ModelState::Loading);
    match &state.caption {
        CaptionState::Ready(_) => (state.caption_text().unwrap_or_default(), false),
        CaptionState::Waiting if loading => ("Loading model…".to_owned(), true),
        CaptionState::Waiting => ("Describing the picture…".to_owned(), true),
        CaptionState::Failed(_) => ("Could not describe this picture.".to_owned(), false),
        CaptionState::Empty if loading => ("Loading model…".to_owned(), true),
        CaptionState::Empty if matches!(state.model, ModelState::Failed(_)) => {
            ("No captioning model is loaded.".to_owned(), false)
        }
        CaptionState::Empty => (
            "Open, paste, drop or screenshot a picture to hear what is in it.".to_owned(),
            false,
        ),
    }
}

fn caption_ui(ui: &mut Ui, state: &mut AppState) {
    let (text, busy) = caption_line(state);
    let response = ui.add(
        egui::Label::new(RichText::new(&text).heading().strong())
            .wrap()
            .selectable(false)
            .sense(egui::Sense::FOCUSABLE),
    );
    state.caption_id = Some(response.id);
    let ready = matches!(state.caption, CaptionState::Ready(_));
    if state.announces_to_screen_reader() {
        let name = state.bus_caption.get(&text, state.window_renamed, ui.ctx());
        ui.ctx().accesskit_node_builder(response.id, |node| {
            // A figure caption (AT-SPI "caption") named with its text, not egui's label: Orca
            // 43 drops every name change of a label (its event manager filters them as GNOME
            // Shell noise) and speaks the new name of the focused item of other roles, so this
            // is what makes it speak a new caption (scripts/check-orca.sh). With seesay's own
            // voice the caption stays a label, so Orca does not say it a second time.
            node.set_role(Role::FigureCaption);
            node.set_label(name);
            node.clear_value();
            if ready {
                node.set_live(Live::Polite);
            }
        });
    }
    if response.has_focus() {
        let stroke = egui::Stroke::new(2.0, ui.visuals().strong_text_color());
        ui.painter().rect_stroke(
            response.rect.expand(2.0),
            4.0,
            stroke,
            egui::StrokeKind::Outside,
        );
    }
    // Always the same hover text, which is the node's description: Orca 43 speaks every
    // description change of the focused item, so one added back with each new caption would
    // be spoken right after the caption and cut it off.
    response.on_hover_text("The caption (Ctrl+C copies it)");
    if busy {
        ui.spinner();
    }
}

fn image_ui(ui: &mut Ui, state: &AppState) {
    let alt = state.caption_text().map_or_else(
        || "The picture being described".to_owned(),
        |c| format!("Picture: {c}"),
    );
    let Some(shown) = &state.shown else {
        return;
    };
    let Some(texture) = &shown.texture else {
        // Decoded on the loader thread; the window keeps answering meanwhile.
        ui.vertical_centered(|ui| {
            ui.add_space(24.0);
            ui.spinner();
            ui.label(RichText::new("Loading…").heading())
                .on_hover_text(&shown.label);
        });
        return;
    };
    let tex_size = texture.size_vec2();
    let avail = ui.available_size();
    if tex_size.x <= 0.0 || tex_size.y <= 0.0 || avail.x <= 1.0 || avail.y <= 1.0 {
        return;
    }
    let scale = (avail.x / tex_size.x).min(avail.y / tex_size.y).min(4.0);
    let size = tex_size * scale;
    let id = texture.id();
    ui.vertical_centered(|ui| {
        ui.add(egui::Image::from_texture((id, size)).alt_text(alt))
            .on_hover_text(&shown.label);
    });
}

fn details_ui(ui: &mut Ui, description: &Description) -> Vec<Command> {
    let mut out = Vec::new();
    let captioned = &description.captioned;
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.label(format!("Kind of picture: {}", description.kind));
        if let Some(note) = &description.note {
            ui.label(RichText::new(note).italics());
        }
        if let Some(reading) = description.reading.as_ref().filter(|r| !r.is_empty()) {
            out.extend(text_ui(ui, reading));
        }
        let Some(best) = captioned.best() else {
            return;
        };
        if description.kind != PictureKind::Photo {
            ui.add_space(8.0);
            ui.label(
                RichText::new(
                    "The photo caption model's reading, not spoken for a picture of text:",
                )
                .small(),
            );
        }
        ui.add_space(4.0);
        ui.label(RichText::new("Word by word").strong());
        ui.label(
            RichText::new(format!(
                "How sure the model was of each word. Chance the description is right: {:.0}%.",
                captioned.confidence.probability * 100.0
            ))
            .small(),
        );
        if let Some(copies) = best.training_copies {
            ui.label(RichText::new(novelty_sentence(copies)).small());
        }
        ui.add_space(4.0);
        let dark = ui.visuals().dark_mode;
        ui.horizontal_wrapped(|ui| {
            for (i, w) in best.words.iter().enumerate() {
                let name = format!("Word {}: {}, {}", i + 1, w.word, percent_in_words(w.prob));
                let hint = format!("\"{}\": the model gave it {:.1}%", w.word, w.prob * 100.0);
                word_ui(ui, &w.word, false, w.prob, dark, &name, &hint);
            }
            // The end token: how sure the model was that the sentence ends here.
            let name = format!("End of caption, {}", percent_in_words(best.end_prob));
            let hint = format!(
                "The model gave ending the caption here {:.1}%",
                best.end_prob * 100.0
            );
            word_ui(ui, "(end)", true, best.end_prob, dark, &name, &hint);
        });
        ui.add_space(12.0);
        ui.separator();
        candidates_ui(ui, &captioned.candidates);
        ui.add_space(12.0);
        ui.separator();
        ui.label(RichText::new("Objects the image classifier sees").strong());
        for g in &captioned.objects {
            let pct = format_percent(g.prob);
            ui.label(format!(
                "{}: {pct} (most likely {}, {})",
                g.word,
                g.top_class,
                format_percent(g.top_class_prob)
            ));
        }
    });
    out
}

/// One word of the caption and its probability, drawn as one label whose accessible name (its
/// value, which is what AT-SPI reads from a label) is `name`, e.g. "Word 3: standing, 15 percent".
fn word_ui(ui: &mut Ui, word: &str, end: bool, prob: f32, dark: bool, name: &str, hint: &str) {
    let color = prob_color(prob, dark);
    let size = ui.text_style_height(&egui::TextStyle::Body) * 1.3;
    let mut text = RichText::new(word).size(size).color(color);
    if end {
        text = text.italics();
    } else if prob < 0.5 {
        text = text.underline();
    }
    let mut job = egui::text::LayoutJob::default();
    let style = ui.style().clone();
    text.append_to(&mut job, &style, egui::FontSelection::Default, Align::Min);
    RichText::new(format!("\n{:.0}%", prob * 100.0))
        .small()
        .color(color)
        .append_to(&mut job, &style, egui::FontSelection::Default, Align::Min);
    let response = ui
        .add(egui::Label::new(job).extend().selectable(false))
        .on_hover_text(hint);
    let name = name.to_owned();
    ui.ctx()
        .accesskit_node_builder(response.id, |node| node.set_value(name));
}

/// Whether a caption is new or one of the training captions, as a sentence: the question the
/// Show and Tell paper asks of its captions (is the model writing, or recalling?).
pub(super) fn novelty_sentence(copies: usize) -> String {
    match copies {
        0 => "A new sentence: no training caption says this.".to_owned(),
        1 => "The same as 1 training caption, word for word.".to_owned(),
        n => format!("The same as {n} training captions, word for word."),
    }
}

/// The beam search's candidates as a table a screen reader can walk: a header row, then one row
/// per candidate with rank, caption, probability in words, log-probability, search and whether
/// the sentence is new.
fn candidates_ui(ui: &mut Ui, candidates: &[crate::captioner::CaptionCandidate]) {
    ui.label(RichText::new("Candidates").strong());
    // The caption column takes the width the other five leave, so captions wrap by words.
    let widths = [
        44.0,
        (ui.available_width() - 430.0).max(90.0),
        120.0,
        70.0,
        60.0,
        100.0,
    ];
    let table = UiBuilder::new()
        .accessibility_role(Role::Table)
        .accessibility_label("Candidates");
    ui.scope_builder(table, |ui| {
        let header = [
            "Rank",
            "Caption",
            "Probability",
            "Log-prob",
            "Search",
            "Sentence",
        ];
        row_ui(ui, "Header", Role::ColumnHeader, &widths, |i| {
            (RichText::new(header[i]).small(), header[i].to_owned())
        });
        for (rank, c) in candidates.iter().enumerate() {
            let prob = percent_in_words(c.prob);
            let search = search_label(c.constraint.as_ref());
            let short = if c.constraint.is_some() {
                "guided"
            } else {
                "free"
            };
            let (sentence_short, sentence) = match c.training_copies {
                Some(0) => ("new".to_owned(), "a new sentence".to_owned()),
                Some(n) => (
                    format!("{n} in training"),
                    format!(
                        "the same as {n} training caption{}",
                        if n == 1 { "" } else { "s" }
                    ),
                ),
                None => (
                    "not known".to_owned(),
                    "not known: the model lists no training sentences".to_owned(),
                ),
            };
            let cells = [
                format!("{}", rank + 1),
                c.text.clone(),
                prob.clone(),
                format!("{:.2}", c.log_prob),
                short.to_owned(),
                sentence_short,
            ];
            let names = [
                cells[0].clone(),
                c.text.clone(),
                prob,
                format!("log-probability {:.2}", c.log_prob),
                search,
                sentence,
            ];
            row_ui(
                ui,
                &format!("Candidate {}", rank + 1),
                Role::Cell,
                &widths,
                |i| (RichText::new(&cells[i]), names[i].clone()),
            );
        }
    });
}

/// One row of the candidates table: a node with role Row holding six cells of `role`.
fn row_ui(
    ui: &mut Ui,
    name: &str,
    role: Role,
    widths: &[f32; 6],
    cell: impl Fn(usize) -> (RichText, String),
) {
    let row = UiBuilder::new()
        .layout(Layout::left_to_right(Align::Min))
        .accessibility_role(Role::Row)
        .accessibility_label(name);
    ui.scope_builder(row, |ui| {
        for (i, width) in widths.iter().enumerate() {
            let (text, name) = cell(i);
            let builder = UiBuilder::new()
                .layout(Layout::top_down(Align::Min))
                .accessibility_role(role)
                .accessibility_label(name.clone());
            ui.scope_builder(builder, |ui| {
                ui.set_min_width(*width);
                ui.set_max_width(*width);
                let response = ui.add(egui::Label::new(text).wrap());
                ui.ctx()
                    .accesskit_node_builder(response.id, |node| node.set_value(name));
            });
        }
    });
    ui.add_space(4.0);
}

/// A probability as a person reads it: "15 percent", "0.5 percent", "0.005 percent", or below
/// that "less than 1 in 100,000".
pub(super) fn percent_in_words(p: f32) -> String {
    let pct = f64::from(p.clamp(0.0, 1.0)) * 100.0;
    if pct >= 0.95 {
        format!("{pct:.0} percent")
    } else if pct >= 0.001 {
        // One significant digit: 0.5, 0.05, 0.005.
        let digits = (-pct.log10().floor()) as usize;
        let rounded = format!("{pct:.digits$}");
        format!("{rounded} percent")
    } else {
        "less than 1 in 100,000".to_owned()
    }
}

/// The text read in the picture, one focusable line each (Tab moves, Enter speaks the line),
/// with "Copy text".
fn text_ui(ui: &mut Ui, reading: &Reading) -> Vec<Command> {
    let mut out = Vec::new();
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("Text read ({} lines)", reading.lines.len())).strong());
        if ui
            .button("Copy text")
            .on_hover_text("Copy the text read in the picture")
            .clicked()
        {
            out.push(Command::CopyText);
        }
    });
    for (i, line) in reading.lines.iter().enumerate() {
        let text = line.text.replace(" ; ", ", ");
        let response = ui
            .add(egui::Button::new(text.as_str()).frame(false).wrap())
            .accessible_name(format!("Line {}: {text}", i + 1))
            .on_hover_text(format!(
                "Line {}, {:.0}% sure; press Enter to hear it",
                i + 1,
                line.confidence * 100.0
            ));
        if response.clicked() {
            out.push(Command::SpeakLine(text.clone()));
        }
    }
    ui.separator();
    out
}

/// Which search found a candidate, in words.
fn search_label(c: Option<&Constraint>) -> String {
    match c {
        None => "free search".to_owned(),
        Some(c) => {
            let mut parts = Vec::new();
            if let Some(w) = &c.include {
                parts.push(format!("must say \"{w}\""));
            }
            if !c.exclude.is_empty() {
                let shown: Vec<&str> = c.exclude.iter().take(3).map(String::as_str).collect();
                let more = if c.exclude.len() > 3 { ", …" } else { "" };
                parts.push(format!("never \"{}\"{more}", shown.join("\", \"")));
            }
            format!("guided: {}", parts.join("; "))
        }
    }
}

fn format_percent(p: f32) -> String {
    let pct = p * 100.0;
    if pct >= 1.0 {
        format!("{pct:.1}%")
    } else if pct >= 0.01 {
        format!("{pct:.2}%")
    } else {
        format!("{pct:.1e}%")
    }
}

fn help_ui(ctx: &egui::Context, state: &mut AppState) -> Vec<Command> {
    let mut out = Vec::new();
    let mut open = true;
    // Not resizable: egui's resize handles are focusable nodes with no name.
    egui::Window::new("Help")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .default_width(520.0)
        .show(ctx, |ui| {
            ui.label("seesay tells you what is in a picture, out loud. Everything works from the keyboard.");
            ui.add_space(6.0);
            egui::Grid::new("shortcuts").striped(true).num_columns(2).show(ui, |ui| {
                for (keys, what) in SHORTCUTS {
                    ui.label(RichText::new(*keys).strong().monospace());
                    ui.label(*what);
                    ui.end_row();
                }
            });
            ui.add_space(6.0);
            ui.label("Words the model was unsure of are underlined; hover a word for its probability. \
                      When seesay is not sure it says so: \"Probably …\" or \"I'm not sure\".");
            let close = ui.button("Close help").on_hover_text("Close help (Escape)");
            // Not in the window's first, invisible (sizing) pass: an invisible widget has no
            // node, so the screen reader's focus would go to the window's root for a frame
            // (Orca 43 says "seesay: … frame" first).
            if ui.is_visible() && std::mem::take(&mut state.focus_help) {
                close.request_focus();
            }
            if close.clicked() {
                out.push(Command::ToggleHelp);
            }
        });
    name_title_bar(ctx, "Help");
    if !open {
        state.show_help = false;
    }
    out
}

fn settings_ui(ctx: &egui::Context, state: &mut AppState) -> Vec<Command> {
    let mut out = Vec::new();
    let mut open = true;
    let voices = state.voices.clone();
    let monitors = state.monitors.clone();
    let focus = &mut state.focus_settings;
    let s = &mut state.settings;
    egui::Window::new("Settings")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .default_width(460.0)
        .show(ctx, |ui| {
            egui::Grid::new("settings")
                .num_columns(2)
                .spacing([16.0, 10.0])
                .show(ui, |ui| {
                    let l = ui.label("Beam size");
                    let first = ui
                        .add(egui::Slider::new(&mut s.beam_size, 1..=10))
                        .labelled_by(l.id);
                    // Not in an invisible (sizing) pass, as in help_ui.
                    if ui.is_visible() && std::mem::take(focus) {
                        first.request_focus();
                    }
                    ui.end_row();
                    let l = ui.label("Candidates shown");
                    let max = s.beam_size.max(1);
                    ui.add(egui::Slider::new(&mut s.candidates, 1..=max))
                        .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Speech rate");
                    ui.add(
                        egui::Slider::new(&mut s.rate, 0.5..=2.0)
                            .step_by(0.1)
                            .suffix("×"),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Speak with");
                    let current = s.speak_with.label();
                    let response = egui::ComboBox::from_id_salt("speak-with")
                        .selected_text(current)
                        .show_ui(ui, |ui| {
                            for choice in SpeakWith::ALL {
                                ui.selectable_value(&mut s.speak_with, choice, choice.label());
                            }
                        })
                        .response
                        .labelled_by(l.id)
                        .on_hover_text(
                            "Who reads captions aloud. Automatic: the screen reader when one is \
                             running, else seesay's voice",
                        );
                    combo_value(ui, &response, current);
                    ui.end_row();
                    let l = ui.label("Voice");
                    let shown = if s.voice.is_empty() {
                        "Default".to_owned()
                    } else {
                        s.voice.clone()
                    };
                    let response = egui::ComboBox::from_id_salt("voice")
                        .selected_text(shown.as_str())
                        .height(300.0)
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut s.voice, String::new(), "Default");
                            for v in &voices {
                                ui.selectable_value(&mut s.voice, v.clone(), v);
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    combo_value(ui, &response, &shown);
                    ui.end_row();
                    let l = ui.label("Text size");
                    ui.add(
                        egui::Slider::new(&mut s.font_scale, 0.75..=3.0)
                            .step_by(0.25)
                            .suffix("×"),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Theme");
                    // A radio group named by its label, so "Dark, radio button" is heard
                    // as part of "Theme".
                    let group = UiBuilder::new()
                        .layout(Layout::left_to_right(Align::Center))
                        .accessibility_role(Role::RadioGroup);
                    ui.scope_builder(group, |ui| {
                        for theme in Theme::ALL {
                            ui.radio_value(&mut s.theme, theme, theme.label());
                        }
                    })
                    .response
                    .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Screenshot of");
                    let current = s
                        .monitor
                        .and_then(|i| monitors.iter().find(|m| m.index == i))
                        .map_or_else(|| "Primary monitor".to_owned(), |m| m.label.clone());
                    let response = egui::ComboBox::from_id_salt("monitor")
                        .selected_text(current.as_str())
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut s.monitor, None, "Primary monitor");
                            for m in &monitors {
                                ui.selectable_value(&mut s.monitor, Some(m.index), &m.label);
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    combo_value(ui, &response, &current);
                    ui.end_row();
                    let l = ui.label("Screenshot delay");
                    ui.add(egui::Slider::new(&mut s.screenshot_delay_s, 0..=10).suffix(" s"))
                        .labelled_by(l.id);
                    ui.end_row();
                });
            ui.checkbox(
                &mut s.auto_speak,
                "Speak each caption as soon as it is ready",
            );
            ui.add_space(6.0);
            if ui.button("Close settings").clicked() {
                out.push(Command::ToggleSettings);
            }
        });
    name_title_bar(ctx, "Settings");
    if !open {
        state.show_settings = false;
    }
    out
}

/// egui gives a window's title bar (dragged to move the window) a focusable node with no name;
/// name it, so a screen reader never lands on a silent stop.
fn name_title_bar(ctx: &egui::Context, title: &str) {
    // egui makes the window's id from `Id::unique(title.text())`, an `Option<&str>`.
    let id = egui::Id::unique(Some(title)).with("__title_click");
    if ctx.has_accesskit_node(id) {
        let name = format!("{title} window: drag to move");
        ctx.accesskit_node_builder(id, |node| node.set_label(name));
    }
}

/// Exposes a combo box's selected item as its value, which AT-SPI reads as the selection.
fn combo_value(ui: &Ui, response: &egui::Response, selected: &str) {
    let selected = selected.to_owned();
    ui.ctx()
        .accesskit_node_builder(response.id, |node| node.set_value(selected));
}

fn drop_hint_ui(ctx: &egui::Context) {
    let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
    if !hovering {
        return;
    }
    let screen = ctx.content_rect();
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("seesay-drop-hint"),
    ));
    painter.rect_filled(screen, 0.0, Color32::from_black_alpha(190));
    painter.text(
        screen.center(),
        egui::Align2::CENTER_CENTER,
        "Drop the picture to hear what is in it",
        egui::TextStyle::Heading.resolve(&ctx.global_style()),
        Color32::WHITE,
    );
}
