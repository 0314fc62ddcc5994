//! The operator's moderation policy: a TOML file (`DARKROOM_MODERATION_POLICY`), or the
//! default shipped in `default_policy.toml` (read it for every field's meaning).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use darkroom_engine::detect::LABELS;
use darkroom_store::moderation::StrikeRules;
use serde::Deserialize;

use super::prompt::{Compiled, View};
use super::{Category, Decision};

/// The whole policy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Recorded with every decision.
    pub version: String,
    pub images: ImagePolicy,
    pub prompts: PromptPolicy,
    pub strikes: StrikePolicy,
}

/// What an image `review` does to a job.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReviewMode {
    /// The job waits for a moderator before it runs (and a result before anyone sees it).
    Hold,
    /// The job runs; its result stays hidden until a moderator approves it.
    HideResult,
}

/// Where an image is checked.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ImageGate {
    Upload,
    Output,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagePolicy {
    pub review_mode: ReviewMode,
    #[serde(default)]
    pub rules: Vec<ImageRule>,
}

/// Detector labels + score thresholds → decision.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRule {
    /// NudeNet labels (`darkroom_engine::detect::LABELS`).
    pub labels: Vec<String>,
    pub category: Category,
    /// Score (0..=1) at or above which the image goes to review.
    pub review_at: Option<f32>,
    /// Score (0..=1) at or above which the image is blocked.
    pub block_at: Option<f32>,
    /// The gates this rule applies to (default: upload and output).
    pub gates: Option<Vec<ImageGate>>,
}

impl ImageRule {
    /// The decision for one detection at `gate`.
    pub fn decide(&self, label: &str, score: f32, gate: ImageGate) -> Decision {
        let applies = self.labels.iter().any(|l| l == label) && self.gates.as_ref().is_none_or(|g| g.contains(&gate));
        if !applies {
            Decision::Allow
        } else if self.block_at.is_some_and(|t| score >= t) {
            Decision::Block
        } else if self.review_at.is_some_and(|t| score >= t) {
            Decision::Review
        } else {
            Decision::Allow
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptPolicy {
    /// What explicit sexual terms do (the minors rule is not configurable).
    pub sexual: Decision,
    /// What severe slurs do.
    pub hate: Decision,
    #[serde(default)]
    pub blocklist: Vec<Term>,
    #[serde(default)]
    pub allowlist: Vec<String>,
    /// Named word lists that [`Pattern`] steps refer to as `@name`.
    #[serde(default)]
    pub sets: BTreeMap<String, Vec<String>>,
    /// Word-order rules for requests no single phrase names (undressing the person in a
    /// photo: "remove her clothes", "take his shirt off").
    #[serde(default)]
    pub patterns: Vec<Pattern>,
    /// The lists and terms tokenised for both readings, made at the first check: change a
    /// policy before it checks its first prompt.
    #[serde(skip)]
    compiled: OnceLock<Arc<[Compiled; 2]>>,
}

impl PromptPolicy {
    /// The compiled terms for [`View::Split`] and [`View::Glued`] (made once).
    pub fn compiled(&self) -> Arc<[Compiled; 2]> {
        self.compiled.get_or_init(|| Arc::new([Compiled::new(self, View::Split), Compiled::new(self, View::Glued)])).clone()
    }
}

/// A word-order rule: its steps must match in order, each starting at most `gap` tokens
/// after the previous one ends.
///
/// A step is `|`-separated alternatives, each a phrase (a trailing `*` matches any ending)
/// or `@name` for every phrase of the set `name` in [`PromptPolicy::sets`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    /// Recorded in the decision's labels (moderators see it, members never do).
    pub name: String,
    pub steps: Vec<String>,
    /// Tokens allowed between two steps (default 2: "remove *all of* her clothes").
    #[serde(default = "default_gap")]
    pub gap: usize,
    /// Words that may not stand in a gap: "remove the woman *in* a dress" is no undressing.
    #[serde(default)]
    pub gap_excludes: Option<String>,
    /// Alternatives that cancel the match when they start right after its last step (or
    /// one token later): "remove the clothes *from* the chair".
    #[serde(default)]
    pub unless_next: Option<String>,
    pub category: Category,
    pub decision: Decision,
}

fn default_gap() -> usize {
    2
}

/// An operator blocklist entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// Word or phrase; a trailing `*` matches any ending of the last word.
    pub phrase: String,
    pub category: Category,
    pub decision: Decision,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrikePolicy {
    /// Automatic blocks count as strikes.
    pub auto_block: bool,
    pub window_days: u32,
    pub restrict_at: u32,
    pub restrict_days: u32,
    pub suspend_at: u32,
}

impl StrikePolicy {
    /// The rules in the store's units.
    pub fn rules(&self) -> StrikeRules {
        const DAY_MS: i64 = 86_400_000;
        StrikeRules {
            window_ms: self.window_days as i64 * DAY_MS,
            restrict_at: self.restrict_at as i64,
            restrict_ms: self.restrict_days as i64 * DAY_MS,
            suspend_at: self.suspend_at as i64,
        }
    }
}

/// The default policy's text.
pub const DEFAULT_POLICY: &str = include_str!("default_policy.toml");

impl Default for Policy {
    fn default() -> Self {
        Policy::parse(DEFAULT_POLICY).expect("the shipped default policy is valid")
    }
}

impl Policy {
    /// Parses and validates a policy.
    ///
    /// Errors (a message naming the problem): bad TOML, an unknown field or label, a
    /// threshold outside 0..=1, `review_at` above `block_at`, strike thresholds of 0 or
    /// `suspend_at` below `restrict_at`, a pattern without steps or naming an unknown set.
    pub fn parse(text: &str) -> Result<Self, String> {
        let p: Policy = toml::from_str(text).map_err(|e| e.to_string())?;
        for rule in &p.images.rules {
            for l in &rule.labels {
                if !LABELS.contains(&l.as_str()) {
                    return Err(format!("unknown detector label {l:?}; known: {}", LABELS.join(", ")));
                }
            }
            for t in [rule.review_at, rule.block_at].into_iter().flatten() {
                if !(0.0..=1.0).contains(&t) {
                    return Err(format!("threshold {t} is outside 0..=1"));
                }
            }
            if let (Some(r), Some(b)) = (rule.review_at, rule.block_at) {
                if r > b {
                    return Err(format!("review_at {r} is above block_at {b} for {:?}", rule.labels));
                }
            }
        }
        let s = &p.strikes;
        if s.restrict_at == 0 || s.suspend_at < s.restrict_at || s.window_days == 0 {
            return Err("strikes: restrict_at must be at least 1, suspend_at at least restrict_at, window_days at least 1".into());
        }
        if p.prompts.blocklist.iter().any(|t| t.phrase.trim_end_matches('*').trim().is_empty()) {
            return Err("prompts.blocklist: empty phrase".into());
        }
        for pattern in &p.prompts.patterns {
            if pattern.steps.is_empty() {
                return Err(format!("prompts.patterns {:?}: no steps", pattern.name));
            }
            let fields = pattern.steps.iter().map(String::as_str).chain(pattern.gap_excludes.as_deref()).chain(pattern.unless_next.as_deref());
            for field in fields {
                for alt in field.split('|').map(str::trim) {
                    match alt.strip_prefix('@') {
                        Some(set) if !p.prompts.sets.contains_key(set) => {
                            return Err(format!("prompts.patterns {:?}: unknown set @{set}", pattern.name));
                        }
                        None if alt.trim_end_matches('*').is_empty() => {
                            return Err(format!("prompts.patterns {:?}: empty alternative in {field:?}", pattern.name));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(p)
    }

    /// Reads a policy file. Errors: unreadable file, or [`Policy::parse`]'s.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Policy::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}
