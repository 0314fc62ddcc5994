//! Templates: the operator's named presets of generation (mode, generator chain, fixed
//! parameters, prompt template, negative prompt, credit cost), in catalogue order.
//!
//! Rows are never deleted: an archived template is no longer offered, and the jobs made with
//! it keep their `template_id` (their results still show). Every change is an
//! administrator's, audited in the same transaction. How often each was used is counted
//! from the jobs that record it ([`Store::template_uses`]).

use darkroom_contract::Mode;
use serde::{Deserialize, Serialize};

use crate::{now_ms, Result, Store, StoreError};

/// A template as stored.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Template {
    /// The slug: `[a-z0-9-]`, 1 to 64 characters (checked by the service before saving).
    pub id: String,
    pub name: String,
    pub description: String,
    pub mode: Mode,
    /// The first generator to try (a `Generator::id`, e.g. `local-style`, `openai`).
    pub generator: String,
    /// JSON array of generator ids tried in order when the first is unavailable.
    pub fallbacks: String,
    /// JSON object: the generator's fixed fields (e.g. `{"style": 3, "strength": 1.0}`).
    pub params: String,
    /// The text sent to prompt-driven generators; `{prompt}` is replaced by the member's.
    pub prompt_template: String,
    pub negative_prompt: String,
    /// Credits per output; `None`: the operator's default price.
    pub cost: Option<i64>,
    /// Catalogue order, ascending.
    pub position: i64,
    pub preview_url: String,
    /// The name and description in other languages: JSON object of language tag to
    /// `{"name", "description"}`, each optional (`{"de": {"name": "Nachtgold"}}`); `{}` when
    /// the operator gave none. Checked by the service before saving.
    pub translations: String,
    /// When it stopped being offered (Unix ms).
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A template to create or update (all fields as they will be stored).
#[derive(Clone, Debug)]
pub struct TemplateInput<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub mode: Mode,
    pub generator: &'a str,
    /// JSON array text.
    pub fallbacks: &'a str,
    /// JSON object text.
    pub params: &'a str,
    pub prompt_template: &'a str,
    pub negative_prompt: &'a str,
    pub cost: Option<i64>,
    pub position: i64,
    pub preview_url: &'a str,
    /// JSON object text (see [`Template::translations`]).
    pub translations: &'a str,
    pub archived: bool,
}

const COLUMNS: &str = "id, name, description, mode, generator, fallbacks, params, prompt_template, negative_prompt, cost, position, \
     preview_url, translations, archived_at, created_at, updated_at";

impl Store {
    /// How many jobs (kept on record, deleted from a gallery or not) each template made, by
    /// template id; templates never used are absent. Counted over the `jobs_template` index.
    pub async fn template_uses(&self) -> Result<std::collections::HashMap<String, i64>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT template_id, COUNT(*) FROM jobs WHERE template_id IS NOT NULL GROUP BY template_id").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().collect())
    }

    /// Every template in catalogue order, archived ones too, as this process last read them
    /// ([`crate::cached`]: a save shows at once here and on other nodes within a second).
    async fn catalogue(&self) -> Result<std::sync::Arc<Vec<Template>>> {
        self.operator
            .templates
            .get(&self.hub, || async {
                Ok(sqlx::query_as::<_, Template>(&format!("SELECT {COLUMNS} FROM templates ORDER BY position, id")).fetch_all(&self.pool).await?)
            })
            .await
    }

    /// Every template in catalogue order; archived ones only with `include_archived`.
    pub async fn templates(&self, include_archived: bool) -> Result<Vec<Template>> {
        Ok(self.catalogue().await?.iter().filter(|t| include_archived || t.archived_at.is_none()).cloned().collect())
    }

    /// One template, archived or not. Errors: [`StoreError::NotFound`].
    pub async fn template(&self, id: &str) -> Result<Template> {
        self.catalogue().await?.iter().find(|t| t.id == id).cloned().ok_or(StoreError::NotFound)
    }

    /// Creates (`create`) or updates a template, audited in the same transaction as
    /// `templates.create` / `templates.update` with a summary. The caller validates the
    /// fields. Errors: [`StoreError::Conflict`] when creating an id that exists;
    /// [`StoreError::NotFound`] when updating one that does not.
    pub async fn save_template(&self, actor_id: &str, t: &TemplateInput<'_>, create: bool) -> Result<Template> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let archived = t.archived as i64;
        if create {
            let done = sqlx::query(
                "INSERT INTO templates (id, name, description, mode, generator, fallbacks, params, prompt_template, negative_prompt, cost, \
                 position, preview_url, translations, archived_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, CASE WHEN $14 = 1 THEN $15 ELSE NULL END, $15, $15)",
            )
            .bind(t.id)
            .bind(t.name)
            .bind(t.description)
            .bind(t.mode)
            .bind(t.generator)
            .bind(t.fallbacks)
            .bind(t.params)
            .bind(t.prompt_template)
            .bind(t.negative_prompt)
            .bind(t.cost)
            .bind(t.position)
            .bind(t.preview_url)
            .bind(t.translations)
            .bind(archived)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from);
            if let Err(e) = done {
                return Err(if e.is_unique_violation() { StoreError::Conflict(format!("a template {:?} exists already", t.id)) } else { e });
            }
        } else {
            let done = sqlx::query(
                "UPDATE templates SET name = $1, description = $2, mode = $3, generator = $4, fallbacks = $5, params = $6, prompt_template = $7, \
                 negative_prompt = $8, cost = $9, position = $10, preview_url = $11, translations = $12, \
                 archived_at = CASE WHEN $13 = 1 THEN COALESCE(archived_at, $14) ELSE NULL END, updated_at = $14 WHERE id = $15",
            )
            .bind(t.name)
            .bind(t.description)
            .bind(t.mode)
            .bind(t.generator)
            .bind(t.fallbacks)
            .bind(t.params)
            .bind(t.prompt_template)
            .bind(t.negative_prompt)
            .bind(t.cost)
            .bind(t.position)
            .bind(t.preview_url)
            .bind(t.translations)
            .bind(archived)
            .bind(now)
            .bind(t.id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        }
        let summary = format!(
            "{} · {} · {} then {} · {} · position {} · {}",
            t.name,
            t.mode,
            t.generator,
            t.fallbacks,
            t.cost.map_or("default price".into(), |c| format!("{c} credits")),
            t.position,
            if t.archived { "archived" } else { "offered" }
        );
        let action = if create { "templates.create" } else { "templates.update" };
        crate::audit::audit_in(&mut tx, Some(actor_id), action, t.id, &summary).await?;
        let saved = sqlx::query_as::<_, Template>(&format!("SELECT {COLUMNS} FROM templates WHERE id = $1")).bind(t.id).fetch_one(&mut *tx).await?;
        crate::announce_operator_change(&mut tx).await?;
        tx.commit().await?;
        self.operator_changed();
        Ok(saved)
    }

    /// Sets a template's preview (the URL of an image made by running it), audited as
    /// `templates.preview` with `made_by` in the same transaction. Returns the row before the
    /// change (its old preview) and after. Errors: [`StoreError::NotFound`].
    pub async fn set_template_preview(&self, actor_id: &str, id: &str, preview_url: &str, made_by: &str) -> Result<(Template, Template)> {
        let mut tx = self.begin_write().await?;
        let before = sqlx::query_as::<_, Template>(&format!("SELECT {COLUMNS} FROM templates WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE templates SET preview_url = $1, updated_at = $2 WHERE id = $3").bind(preview_url).bind(now_ms()).bind(id).execute(&mut *tx).await?;
        crate::audit::audit_in(&mut tx, Some(actor_id), "templates.preview", id, &format!("{preview_url} · made by {made_by}")).await?;
        let after = sqlx::query_as::<_, Template>(&format!("SELECT {COLUMNS} FROM templates WHERE id = $1")).bind(id).fetch_one(&mut *tx).await?;
        crate::announce_operator_change(&mut tx).await?;
        tx.commit().await?;
        self.operator_changed();
        Ok((before, after))
    }

    /// How long a run of the template typically takes: the median, in milliseconds, of its
    /// latest 20 succeeded jobs' last attempts (`None` before the first). For ETAs.
    pub async fn typical_run_ms(&self, template_id: &str) -> Result<Option<i64>> {
        let mut runs: Vec<i64> = sqlx::query_scalar(
            "SELECT finished_at - attempt_started_at FROM jobs WHERE template_id = $1 AND status = 'succeeded' \
             AND attempt_started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 20",
        )
        .bind(template_id)
        .fetch_all(&self.pool)
        .await?;
        runs.sort_unstable();
        Ok(runs.get(runs.len() / 2).copied())
    }

    /// Moves a template one place up (`-1`) or down (`1`) in the catalogue by swapping
    /// positions with its neighbour among the offered ones (audited as `templates.move`).
    /// Nothing happens at either end. Errors: [`StoreError::NotFound`].
    pub async fn move_template(&self, actor_id: &str, id: &str, step: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let (position,): (i64,) = sqlx::query_as("SELECT position FROM templates WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let neighbour: Option<(String, i64)> = if step < 0 {
            sqlx::query_as("SELECT id, position FROM templates WHERE archived_at IS NULL AND (position < $1 OR (position = $1 AND id < $2)) ORDER BY position DESC, id DESC LIMIT 1")
        } else {
            sqlx::query_as("SELECT id, position FROM templates WHERE archived_at IS NULL AND (position > $1 OR (position = $1 AND id > $2)) ORDER BY position, id LIMIT 1")
        }
        .bind(position)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((other, other_position)) = neighbour else { return Ok(()) };
        // Equal positions (hand-edited) still swap: the mover goes strictly past its neighbour.
        let (mine, theirs) = if other_position == position { (position + step.signum(), position) } else { (other_position, position) };
        sqlx::query("UPDATE templates SET position = $1, updated_at = $2 WHERE id = $3").bind(mine).bind(now_ms()).bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE templates SET position = $1, updated_at = $2 WHERE id = $3").bind(theirs).bind(now_ms()).bind(&other).execute(&mut *tx).await?;
        let direction = if step < 0 { "up" } else { "down" };
        crate::audit::audit_in(&mut tx, Some(actor_id), "templates.move", id, &format!("{direction}, past {other}")).await?;
        crate::announce_operator_change(&mut tx).await?;
        tx.commit().await?;
        self.operator_changed();
        Ok(())
    }
}
