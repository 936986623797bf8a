//! Looking inside the caption model: its word neighbours, whether its sentences are new, and
//! where in the picture each word comes from.

pub mod neighbours;
pub mod novelty;
pub mod occlusion;

pub use crate::model::sentences::TrainingSentences;
pub use neighbours::{nearest_words, Neighbour};
pub use novelty::{Novelty, NoveltyIndex};
pub use occlusion::{occlude, LookMethod, Occlusion, Region, WordLook};
