//! HTTP routes that are not pages: one file per resource.

pub mod account;
pub mod api;
pub mod audit;
pub mod events;
pub mod favicon;
pub mod gallery;
pub mod generations;
pub mod health;
pub mod ledger;
pub mod media;
pub mod oidc;
pub mod payments;
pub mod previews;
pub mod providers;
pub mod signed_media;
pub mod site_settings;

/// A [`ServiceError`] as an HTTP response, for every route that answers JSON: one type, the
/// API's (`{"error":{"code","message"}}` with its status, and `Retry-After` on 429).
pub use api::ApiError;
