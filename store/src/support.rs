//! Support requests: asked through the support page (by visitors and members), answered and
//! closed by staff. Every answer and close is audited in the same transaction.

use darkroom_contract::{SupportStatus, SupportTopic};
use serde::{Deserialize, Serialize};

use crate::{new_id, now_ms, Result, Store, StoreError};

/// One support request.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct SupportRequest {
    pub id: String,
    /// The member who asked while signed in; `None` for a visitor.
    pub user_id: Option<String>,
    /// Where the answer is mailed.
    pub email: String,
    pub topic: SupportTopic,
    pub message: String,
    pub status: SupportStatus,
    /// The latest answer staff mailed.
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    /// Unix milliseconds.
    pub answered_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, user_id, email, topic, message, status, answer, answered_by, answered_at, closed_at, created_at";

impl Store {
    /// Records a new request (`open`). The caller checks the fields and the rate limit.
    pub async fn create_support_request(&self, user_id: Option<&str>, email: &str, topic: SupportTopic, message: &str) -> Result<SupportRequest> {
        let id = new_id();
        sqlx::query("INSERT INTO support_requests (id, user_id, email, topic, message, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&id)
            .bind(user_id)
            .bind(email)
            .bind(topic)
            .bind(message)
            .bind(SupportStatus::Open)
            .bind(now_ms())
            .execute(&self.write_pool)
            .await?;
        self.support_request(&id).await
    }

    /// One request. Errors: [`StoreError::NotFound`].
    pub async fn support_request(&self, id: &str) -> Result<SupportRequest> {
        sqlx::query_as::<_, SupportRequest>(&format!("SELECT {COLUMNS} FROM support_requests WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Requests for staff, oldest first within `status` (all states when `None`, newest
    /// first then), at most `limit`.
    pub async fn support_requests(&self, status: Option<SupportStatus>, limit: i64) -> Result<Vec<SupportRequest>> {
        Ok(match status {
            Some(s) => {
                sqlx::query_as::<_, SupportRequest>(&format!("SELECT {COLUMNS} FROM support_requests WHERE status = $1 ORDER BY created_at, id LIMIT $2"))
                    .bind(s)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as::<_, SupportRequest>(&format!("SELECT {COLUMNS} FROM support_requests ORDER BY created_at DESC, id DESC LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        })
    }

    /// The member's own requests, newest first.
    pub async fn support_requests_of(&self, user_id: &str) -> Result<Vec<SupportRequest>> {
        Ok(sqlx::query_as::<_, SupportRequest>(&format!("SELECT {COLUMNS} FROM support_requests WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100"))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Moves a request to `next` (`answered` with `answer`, or `closed`) by staff member
    /// `staff_id`, audited on `support:<id>` (`support.answer` / `support.close`, `reason` = the answer's first
    /// 200 characters or empty). Errors: [`StoreError::NotFound`]; [`StoreError::Conflict`] when
    /// the request's state does not allow it (a closed request, or a concurrent change).
    pub async fn move_support_request(&self, id: &str, staff_id: &str, next: SupportStatus, answer: Option<&str>) -> Result<SupportRequest> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let current: Option<SupportStatus> = sqlx::query_scalar("SELECT status FROM support_requests WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        let current = current.ok_or(StoreError::NotFound)?;
        if !current.can_become(next) || (next == SupportStatus::Answered) != answer.is_some() {
            return Err(StoreError::Conflict(format!("a request that is {current} cannot become {next}")));
        }
        let done = match answer {
            Some(text) => sqlx::query("UPDATE support_requests SET status = $1, answer = $2, answered_by = $3, answered_at = $4 WHERE id = $5 AND status = $6")
                .bind(next)
                .bind(text)
                .bind(staff_id)
                .bind(now)
                .bind(id)
                .bind(current),
            None => sqlx::query("UPDATE support_requests SET status = $1, closed_at = $2 WHERE id = $3 AND status = $4").bind(next).bind(now).bind(id).bind(current),
        }
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("the request changed meanwhile".into()));
        }
        let action = if next == SupportStatus::Answered { "support.answer" } else { "support.close" };
        let reason: String = answer.unwrap_or("").chars().take(200).collect();
        crate::audit::audit_in(&mut tx, Some(staff_id), action, &format!("support:{id}"), &reason).await?;
        tx.commit().await?;
        self.support_request(id).await
    }
}
