//! The member's dashboard: credits spent over the last [`DAYS`] days per day and template,
//! and the chart of it as SVG made on the server (stacked bars, one colour per template
//! through the `series-N` classes the stylesheet sets for light and dark themes; each day's
//! group carries `data-day` and `data-credits`, and a `<title>` that screen readers and
//! hovering read).

use darkroom_store::dashboard::{UsageRow, DAY_MS};

use crate::mail::escape;
use crate::{AppState, ServiceError};

/// Days the chart covers, today included.
pub const DAYS: i64 = 30;
/// Distinct colours; templates beyond these share the last (`series-5`, "other").
pub const SERIES: usize = 6;

/// One day of the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    /// The UTC day's start, Unix ms.
    pub day: i64,
    /// Net credits spent that day (charges less refunds; may be negative).
    pub total: i64,
    /// `(series index, credits)` per template spent on that day.
    pub parts: Vec<(usize, i64)>,
}

/// The chart's data: every day of the window (empty days included) and the templates'
/// names by series index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    pub days: Vec<Day>,
    /// Names by series index; "" for jobs without a template.
    pub templates: Vec<String>,
}

impl Usage {
    /// Credits spent in the whole window.
    pub fn total(&self) -> i64 {
        self.days.iter().map(|d| d.total).sum()
    }
}

/// The UTC day start of `ms`.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS) * DAY_MS
}

/// Lays `rows` (from `Store::usage_by_day`) out over the [`DAYS`] days ending on `today`'s
/// day; templates take series in order of credits spent, most first.
pub fn layout(rows: &[UsageRow], today_ms: i64) -> Usage {
    let first = day_of(today_ms) - (DAYS - 1) * DAY_MS;
    let mut spent: Vec<(String, i64)> = Vec::new();
    for r in rows {
        match spent.iter_mut().find(|(t, _)| *t == r.template) {
            Some((_, c)) => *c += r.credits,
            None => spent.push((r.template.clone(), r.credits)),
        }
    }
    spent.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let templates: Vec<String> = spent.into_iter().map(|(t, _)| t).collect();
    let series = |t: &str| templates.iter().position(|x| x == t).unwrap_or(0).min(SERIES - 1);
    let days = (0..DAYS)
        .map(|i| {
            let day = first + i * DAY_MS;
            let mut parts: Vec<(usize, i64)> = Vec::new();
            for r in rows.iter().filter(|r| r.day == day) {
                let s = series(&r.template);
                match parts.iter_mut().find(|(x, _)| *x == s) {
                    Some((_, c)) => *c += r.credits,
                    None => parts.push((s, r.credits)),
                }
            }
            parts.sort();
            Day { day, total: parts.iter().map(|(_, c)| c).sum(), parts }
        })
        .collect();
    Usage { days, templates }
}

/// The member's usage over the last [`DAYS`] days as of `now_ms`.
///
/// Errors: the database failed.
pub async fn usage(state: &AppState, user_id: &str, now_ms: i64) -> Result<Usage, ServiceError> {
    let since = day_of(now_ms) - (DAYS - 1) * DAY_MS;
    let rows = state.store.usage_by_day(user_id, since).await?;
    Ok(layout(&rows, now_ms))
}

/// `YYYY-MM-DD` of a UTC day start.
pub fn date(day_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day_ms / 1000).map(|t| t.date().to_string()).unwrap_or_default()
}

/// The chart: an SVG of stacked bars (600×200 user units, stretched to its box: it holds no
/// text, so nothing is distorted) followed by the axis as HTML text (the highest day's
/// credits, and the dates of every seventh day ending today), so labels stay legible at phone
/// width. `label(template)` names a series in the titles (`""`: the caller's word for "no
/// template"); `credits` is the unit's word.
pub fn svg(usage: &Usage, label: &dyn Fn(&str) -> String, credits: &str) -> String {
    const W: f64 = 600.0;
    const H: f64 = 200.0;
    let max = usage.days.iter().map(|d| d.parts.iter().map(|(_, c)| (*c).max(0)).sum::<i64>()).max().unwrap_or(0).max(1);
    let slot = W / usage.days.len().max(1) as f64;
    let scale = (H - 2.0) / max as f64;
    let mut out = format!(
        "<div class=\"usage\"><span class=\"usage-max\">{max} {credits}</span>\
         <svg class=\"usage-chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" preserveAspectRatio=\"none\" aria-label=\"{}\" data-testid=\"usage-chart\">",
        escape(&format!("{} {credits}", usage.total()))
    );
    out.push_str(&format!("<line class=\"axis\" x1=\"0\" y1=\"{H}\" x2=\"{W}\" y2=\"{H}\"/>"));
    let mut axis = String::new();
    let n = usage.days.len();
    for (i, d) in usage.days.iter().enumerate() {
        let x = i as f64 * slot + slot * 0.15;
        let w = slot * 0.7;
        let date = date(d.day);
        let mut title = format!("{date}: {} {credits}", d.total);
        for (s, c) in &d.parts {
            let name = usage.templates.get(*s).map(String::as_str).unwrap_or("");
            title.push_str(&format!("; {}: {c}", label(name)));
        }
        out.push_str(&format!("<g data-day=\"{date}\" data-credits=\"{}\"><title>{}</title>", d.total, escape(&title)));
        let mut y = H;
        for (s, c) in &d.parts {
            let h = (*c).max(0) as f64 * scale;
            if h > 0.0 {
                y -= h;
                out.push_str(&format!("<rect class=\"series-{s}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\"/>"));
            }
        }
        out.push_str("</g>");
        // Evenly spaced (every seventh day), so a row spread edge to edge lines up with them.
        if (n - 1 - i) % 7 == 0 {
            axis.push_str(&format!("<span>{}</span>", &date[5..]));
        }
    }
    out.push_str("</svg>");
    out.push_str(&format!("<div class=\"usage-axis\">{axis}</div></div>"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: i64, template: &str, credits: i64) -> UsageRow {
        UsageRow { day: day * DAY_MS, template: template.into(), credits }
    }

    #[test]
    fn days_cover_the_window_and_sum_per_template() {
        let today = 20_000 * DAY_MS + 5_000;
        let rows = [row(20_000 - 29, "Sketch", 3), row(20_000, "Photo", 10), row(20_000, "Sketch", 2), row(20_000 - 30, "Sketch", 99)];
        let u = layout(&rows, today);
        assert_eq!(u.days.len(), 30);
        assert_eq!(u.days[0].day, (20_000 - 29) * DAY_MS);
        assert_eq!(u.days[0].total, 3);
        assert_eq!(u.templates, ["Sketch", "Photo"], "most spent first (the day outside the window counts for the order only)");
        assert_eq!(u.days[29].parts, [(0, 2), (1, 10)]);
        assert_eq!(u.total(), 15);
        let svg = svg(&u, &|t| if t.is_empty() { "Other".into() } else { t.into() }, "credits");
        assert!(svg.contains(&format!("data-day=\"{}\" data-credits=\"12\"", date(20_000 * DAY_MS))), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("<svg") && svg.contains("</svg>") && svg.contains("class=\"usage-axis\""));
        let axis = &svg[svg.find("usage-axis").unwrap()..];
        assert_eq!(axis.matches("<span>").count(), 5, "every seventh day ending today: {axis}");
        assert!(axis.contains(&format!("<span>{}</span>", &date(20_000 * DAY_MS)[5..])), "today is labelled");
        assert!(!svg.contains("style="), "no inline style (the pages' CSP refuses it)");
    }

    #[test]
    fn names_are_escaped() {
        let u = layout(&[row(20_000, "<b>&", 1)], 20_000 * DAY_MS);
        let svg = svg(&u, &|t| t.into(), "credits");
        assert!(svg.contains("&lt;b&gt;&amp;") && !svg.contains("<b>"));
    }
}
