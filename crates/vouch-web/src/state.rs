use std::sync::Arc;
use vouch_app::App;

/// What the web layer needs from the configuration.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// The address people use to reach Vouch, e.g. `https://vouch.example.com`. Cookies are
    /// marked `Secure` when it is https.
    pub public_url: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Single sign-on, when configured.
    pub sso: Option<SsoSettings>,
}

#[derive(Clone, Debug)]
pub struct SsoSettings {
    /// The button's label, e.g. "Sign in with Okta".
    pub display_name: String,
}

impl WebConfig {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub app: App,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub sso: Option<Arc<vouch_sso::OidcClient>>,
}

impl AppState {
    pub fn new(app: App, config: WebConfig, sso: Option<Arc<vouch_sso::OidcClient>>) -> AppState {
        AppState {
            app,
            config: Arc::new(config),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            sso,
        }
    }
}
