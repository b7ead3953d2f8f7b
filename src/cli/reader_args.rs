//! The plate reader's options, shared by every command that reads plates.

use std::path::PathBuf;

use crate::ocr::{DEFAULT_VIEWS, Reader, prep};
use crate::{Error, Result};

/// Which weights read plates, and in how many views.
#[derive(Debug, Clone, clap::Args)]
pub struct ReaderArgs {
    /// Read with the OCR weights in this folder (its ocr.safetensors)
    /// instead of the built-in ones.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Views of each plate crop read and pooled: the whole crop, then the
    /// crop cut by a few percent on some sides. More views read more plates
    /// right; each costs one more pass of the network. In photos, every box
    /// is read in one view to rank them, and the best few of each photo again
    /// in all the views.
    #[arg(long, default_value_t = DEFAULT_VIEWS as u8,
          value_parser = clap::value_parser!(u8).range(1..=prep::VIEWS.len() as i64))]
    pub views: u8,
}

impl ReaderArgs {
    /// The reader these options name. A model folder that cannot be read is
    /// bad input (exit code 2), named with its problem.
    pub fn reader(&self) -> Result<Reader> {
        let reader = match &self.model {
            Some(dir) => Reader::load(dir).map_err(|e| match e {
                Error::Io { path, source } => {
                    Error::bad_input(format!("{}: {source}", path.display()))
                }
                Error::BadData { path, message } => {
                    Error::bad_input(format!("{}: {message}", path.display()))
                }
                other => other,
            })?,
            None => Reader::embedded()?,
        };
        reader.with_views(usize::from(self.views))
    }
}
