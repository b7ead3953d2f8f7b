//! The plate reader's options, shared by every command that reads plates.

use std::path::PathBuf;

use crate::ocr::{DEFAULT_SURE, DEFAULT_VIEWS, Reader, prep};
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
    /// A crop whose first view is read at least this sure (0 to 1) is not
    /// read in the other views. With 0.9 over half of all crops are, and
    /// pooling hardly ever changes their read: the views cost about half
    /// as much, for a plate or so in a thousand. 1 reads every crop in
    /// every view.
    #[arg(long, default_value_t = DEFAULT_SURE, value_parser = parse_sure)]
    pub sure: f32,
}

/// A `--sure` value: a number from 0 to 1.
fn parse_sure(text: &str) -> std::result::Result<f32, String> {
    super::parse_unit(text)
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
        reader
            .with_views(usize::from(self.views))?
            .with_sure(self.sure)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_sure;

    #[test]
    fn sure_takes_a_number_from_0_to_1() {
        assert_eq!(parse_sure("0.9"), Ok(0.9));
        assert_eq!(parse_sure("1"), Ok(1.0));
        for bad in ["1.5", "-0.1", "NaN", "sure"] {
            let err = parse_sure(bad).unwrap_err();
            assert!(err.contains("not a number from 0 to 1"), "{err}");
        }
    }
}
