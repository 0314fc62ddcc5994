//! The one error type of the service layer, with the HTTP status and stable code each
//! variant maps to (the API's `{"error":{"code","message"}}` uses `code()` and `Display`).

use darkroom_engine::imageio::UploadError;
use darkroom_store::StoreError;

/// What went wrong, in words a member may read. Internal details are logged, not shown.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input (400): the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// Not signed in or bad credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in but not allowed: wrong role, restricted or suspended account (403).
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests (429); try again after this many seconds.
    #[error("Too many requests. Please try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    /// Missing, or not the caller's (404; no oracle).
    #[error("Not found.")]
    NotFound,
    /// State does not allow it, or a duplicate (409).
    #[error("{0}")]
    Conflict(String),
    /// Balance too low (402); nothing was charged.
    #[error("Not enough credits: this costs {needed}, your balance is {balance}.")]
    InsufficientCredits { balance: i64, needed: i64 },
    /// An API key's spending cap for this period would be exceeded (402); nothing was charged.
    #[error("This API key's credit cap is reached: {spent} of {cap} credits spent this period.")]
    CreditCapReached { cap: i64, spent: i64 },
    /// An image refused by moderation before anything was stored (422).
    #[error("{0}")]
    ContentRejected(String),
    /// Upload refused (400, or 413 when too large).
    #[error("{0}")]
    Upload(#[from] UploadError),
    /// A dependency is down (503).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an outage (500); the detail is logged only.
    #[error("Something went wrong. Please try again a little later.")]
    Internal(String),
}

impl ServiceError {
    /// HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::RateLimited { .. } => 429,
            Self::NotFound => 404,
            Self::Conflict(_) => 409,
            Self::InsufficientCredits { .. } => 402,
            Self::CreditCapReached { .. } => 402,
            Self::ContentRejected(_) => 422,
            Self::Upload(UploadError::TooLarge { .. }) => 413,
            Self::Upload(_) => 400,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    /// Stable machine-readable code, e.g. `insufficient_credits`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::RateLimited { .. } => "rate_limited",
            Self::NotFound => "not_found",
            Self::Conflict(_) => "conflict",
            Self::InsufficientCredits { .. } => "insufficient_credits",
            Self::CreditCapReached { .. } => "credit_cap_reached",
            Self::ContentRejected(_) => "content_rejected",
            Self::Upload(UploadError::TooLarge { .. }) => "file_too_large",
            Self::Upload(_) => "invalid_image",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// Wraps an unexpected error, logging its detail.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::Internal(e.to_string())
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::InsufficientCredits { balance, needed } => Self::InsufficientCredits { balance, needed },
            StoreError::CreditCapReached { cap, spent } => Self::CreditCapReached { cap, spent },
            other => Self::internal(other),
        }
    }
}

impl From<object_store::Error> for ServiceError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::internal(other),
        }
    }
}
