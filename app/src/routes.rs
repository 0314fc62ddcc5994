//! The routes whose code the browser loads only when they are opened (Leptos' lazy routes).
//!
//! The bundle a visitor's first page downloads holds the shell (header, live connection,
//! texts) and the home page; every other page is a [`LazyRoute`] here, which the build
//! (`scripts/build-site.sh`, `tools/wasm-split`) cuts into chunks of its own. A page on a lazy
//! route is rendered by the server as before; in the browser its chunks load once the main
//! module runs (`hydrate_lazy`), then it hydrates, and a link to it loads them on the way.
//!
//! The page's chunks are preloaded: the server provides the split manifest
//! (`server/src/bundle.rs`), so Leptos lists the chunks of the route being rendered as
//! `<link rel="preload" as="fetch">` in its `<head>` and they download beside the main module.
//! Code shared by many routes sits in one shared chunk (`tools/wasm-split`), so a page needs
//! a handful of requests, not a hundred.
//!
//! A new page is one line in [`lazy_pages!`] and its route in `App` with
//! `view={Lazy::<Name>::new()}`.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// One unit struct per page, whose `LazyRoute::view` renders the page component.
macro_rules! lazy_pages {
    ($($name:ident => $module:ident :: $page:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($module), "::", stringify!($page), "`, loaded when opened.")]
        pub struct $name;

        #[lazy_route]
        impl LazyRoute for $name {
            fn data() -> Self {
                $name
            }

            fn view(_this: Self) -> AnyView {
                use crate::pages::$module::$page;
                crate::mark_hydrated();
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    SignUp => auth::SignUpPage,
    SignIn => auth::SignInPage,
    Forgot => account::ForgotPage,
    Reset => account::ResetPage,
    VerifyDone => account::VerifyDonePage,
    SignUpSent => account::SignUpSentPage,
    Create => create::CreatePage,
    Dashboard => dashboard::DashboardPage,
    Gallery => gallery::GalleryPage,
    Item => gallery::ItemPage,
    Settings => settings::SettingsPage,
    Keys => keys::KeysPage,
    Credits => credits::CreditsPage,
    Buy => billing::BuyPage,
    Pricing => billing::PricingPage,
    Support => support::SupportFormPage,
    AdminSupport => support::AdminSupportPage,
    AdminAudit => audit::AdminAuditPage,
    AdminSettings => site_settings::AdminSettingsPage,
    AdminNotices => notices::AdminNoticesPage,
    AdminMembers => members::AdminMembersPage,
    AdminMember => members::AdminMemberPage,
    AdminGenerations => members::AdminGenerationsPage,
    AdminPayments => billing::AdminPaymentsPage,
    AdminPlans => billing::AdminPlansPage,
    AdminProviders => providers::AdminProvidersPage,
    AdminTemplates => templates::AdminTemplatesPage,
    Explore => share::ExploreFeed,
    Share => share::SharePage,
    Public => share::PublicPage,
    Moderation => moderation::ModerationPage,
    Terms => legal::Terms,
    Privacy => legal::Privacy,
}
