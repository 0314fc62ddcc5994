//! The operator's notices: published and withdrawn by administrators (audited in the same
//! transaction), listed for a member until they dismiss them, and mailed in batches by
//! whichever node holds the notice's mailing lease.

use darkroom_contract::NoticeKind;
use serde::{Deserialize, Serialize};

use crate::audit::audit_in;
use crate::{new_id, now_ms, Result, Store, StoreError};

/// A notice as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Notice {
    pub id: String,
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    /// 1: mailed to every member.
    pub mail: i64,
    /// Unix ms; `None` while members are still being mailed (or `mail` is 0).
    pub mail_done_at: Option<i64>,
    pub created_at: i64,
    pub withdrawn_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, title, body, mail, mail_done_at, created_at, withdrawn_at";

/// One member to mail: id and address.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Recipient {
    pub id: String,
    pub email: String,
}

impl Store {
    /// Publishes a notice (audited `notice.publish` with its title).
    pub async fn publish_notice(&self, actor_id: &str, kind: NoticeKind, title: &str, body: &str, mail: bool) -> Result<Notice> {
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO notices (id, kind, title, body, mail, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&id)
            .bind(kind)
            .bind(title)
            .bind(body)
            .bind(mail as i64)
            .bind(actor_id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        audit_in(&mut tx, Some(actor_id), "notice.publish", &format!("notice:{id}"), title).await?;
        let notice = sqlx::query_as::<_, Notice>(&format!("SELECT {COLUMNS} FROM notices WHERE id = $1")).bind(&id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(notice)
    }

    /// Withdraws a notice: its banner goes for everyone, and an unfinished mailing stops
    /// (audited `notice.withdraw`). Errors: [`StoreError::NotFound`] for an unknown or
    /// already withdrawn notice.
    pub async fn withdraw_notice(&self, actor_id: &str, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let done = sqlx::query("UPDATE notices SET withdrawn_at = $1, mail_done_at = COALESCE(mail_done_at, $1) WHERE id = $2 AND withdrawn_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        }
        audit_in(&mut tx, Some(actor_id), "notice.withdraw", &format!("notice:{id}"), "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every notice, newest first, at most `limit` (the console's list).
    pub async fn notices(&self, limit: i64) -> Result<Vec<Notice>> {
        Ok(sqlx::query_as::<_, Notice>(&format!("SELECT {COLUMNS} FROM notices ORDER BY created_at DESC, id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The notices `user_id` sees: not withdrawn, not dismissed by them, published after
    /// `since_ms`; newest first, at most `limit`.
    pub async fn notices_for(&self, user_id: &str, since_ms: i64, limit: i64) -> Result<Vec<Notice>> {
        Ok(sqlx::query_as::<_, Notice>(&format!(
            "SELECT {COLUMNS} FROM notices n WHERE withdrawn_at IS NULL AND created_at >= $2 \
             AND NOT EXISTS (SELECT 1 FROM notice_dismissals d WHERE d.notice_id = n.id AND d.user_id = $1) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(user_id)
        .bind(since_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Closes a notice's banner for `user_id` (again: nothing changes). Errors:
    /// [`StoreError::NotFound`] for an unknown notice.
    pub async fn dismiss_notice(&self, user_id: &str, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let known: Option<String> = sqlx::query_scalar("SELECT id FROM notices WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        if known.is_none() {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        }
        sqlx::query("INSERT INTO notice_dismissals (notice_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (notice_id, user_id) DO NOTHING")
            .bind(id)
            .bind(user_id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the mailing lease of the oldest notice still to be mailed, until `now + lease_ms`.
    /// Returns the notice and the last user id already mailed (`None`: start at the first),
    /// or `None` when no mailing waits or another node holds the lease.
    pub async fn claim_notice_mailing(&self, lease_ms: i64) -> Result<Option<(Notice, Option<String>)>> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let next: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT id, mail_cursor FROM notices WHERE mail = 1 AND mail_done_at IS NULL AND withdrawn_at IS NULL \
             AND (mail_lease_until IS NULL OR mail_lease_until < $1) ORDER BY created_at, id LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, cursor)) = next else {
            tx.rollback().await?;
            return Ok(None);
        };
        // Conditional on the lease still being free: two nodes racing here, one wins.
        let won = sqlx::query("UPDATE notices SET mail_lease_until = $1 WHERE id = $2 AND (mail_lease_until IS NULL OR mail_lease_until < $3)")
            .bind(now + lease_ms)
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if won.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let notice = sqlx::query_as::<_, Notice>(&format!("SELECT {COLUMNS} FROM notices WHERE id = $1")).bind(&id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some((notice, cursor)))
    }

    /// Members to mail after the user id `after` (in id order), at most `limit`: accounts not
    /// deleted.
    pub async fn notice_recipients(&self, after: Option<&str>, limit: i64) -> Result<Vec<Recipient>> {
        Ok(sqlx::query_as::<_, Recipient>("SELECT id, email FROM users WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2")
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Records that the mailing reached the user id `cursor` (and, with `done`, that it is
    /// finished), renewing the lease until `now + lease_ms`.
    pub async fn advance_notice_mailing(&self, id: &str, cursor: &str, done: bool, lease_ms: i64) -> Result<()> {
        let now = now_ms();
        sqlx::query("UPDATE notices SET mail_cursor = $1, mail_lease_until = $2, mail_done_at = CASE WHEN $3 = 1 THEN $4 ELSE mail_done_at END WHERE id = $5")
            .bind(cursor)
            .bind(now + lease_ms)
            .bind(done as i64)
            .bind(now)
            .bind(id)
            .execute(&self.write_pool)
            .await?;
        Ok(())
    }

    /// Ends a mailing that found nobody (left) to mail.
    pub async fn finish_notice_mailing(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE notices SET mail_done_at = COALESCE(mail_done_at, $1), mail_lease_until = NULL WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&self.write_pool)
            .await?;
        Ok(())
    }
}
