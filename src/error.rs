//! The library's one error type. Each variant says who must act: the user
//! (bad input or configuration), the data (a damaged store), the machine's
//! owner (no usable GPU), or us (a bug).

use std::path::PathBuf;

/// Errors returned by the `alpr` library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user gave something we cannot use: fix the command line or the input.
    #[error("{0}")]
    BadInput(String),

    /// Access refused: wrong credentials, a disabled or untrained user, a
    /// role without the right, or a request without its required purpose.
    /// The refusal is in the audit log.
    #[error("access refused: {0}")]
    Refused(String),

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A store or file on disk is not what we expect (damaged, wrong version).
    #[error("{path}: {message}")]
    BadData { path: PathBuf, message: String },

    /// The query engine refused or failed a query.
    #[error(transparent)]
    Query(#[from] datafusion::error::DataFusionError),

    /// Arrow failed on data we built: usually our bug.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),

    /// Parquet encoding or decoding failed.
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),

    /// The GPU was asked for but none is usable: install a driver, or run
    /// with the GPU off (the CPU kernels compute the same results).
    #[error("GPU unavailable: {0}")]
    GpuUnavailable(String),

    /// The GPU failed work we built (device lost, out of memory, or a
    /// validation error: our bug or the driver's).
    #[error("GPU failure: {0}")]
    GpuFailed(String),

    /// Training the reader failed while it ran (the loss diverged, the
    /// plate generator or a thread pool stopped, the engine failed): not
    /// the command line's fault, so not bad input.
    #[error("training failed: {0}")]
    Training(String),
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A bad-input error from anything printable.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Error::BadInput(message.into())
    }
}
