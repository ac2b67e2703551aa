//! react-admin list parameters: `_start`, `_end`, `_sort`, `_order`.

use crate::domain::Share;
use crate::error::ApiError;
use std::cmp::Ordering;

#[derive(Debug)]
pub struct ListQuery {
    start: usize,
    end: Option<usize>,
    sort: SortKey,
    descending: bool,
}

#[derive(Debug, Clone, Copy)]
enum SortKey {
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
    LastVisitedAt,
    VisitCount,
    Description,
    Username,
    Id,
}

impl ListQuery {
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> =
            actix_web::web::Query::<Vec<(String, String)>>::from_query(query)
                .map(|q| q.into_inner())
                .map_err(|_| ApiError::invalid("query", "malformed query string"))?;
        let mut q = ListQuery {
            start: 0,
            end: None,
            sort: SortKey::CreatedAt,
            descending: true,
        };
        let mut order_given = false;
        for (k, v) in pairs {
            match k.as_str() {
                "_start" => {
                    q.start = v
                        .parse()
                        .map_err(|_| ApiError::invalid("_start", "must be a whole number"))?
                }
                "_end" => {
                    q.end = Some(
                        v.parse()
                            .map_err(|_| ApiError::invalid("_end", "must be a whole number"))?,
                    )
                }
                "_sort" => {
                    q.sort = match v.as_str() {
                        "createdAt" => SortKey::CreatedAt,
                        "updatedAt" => SortKey::UpdatedAt,
                        "expiresAt" => SortKey::ExpiresAt,
                        "lastVisitedAt" => SortKey::LastVisitedAt,
                        "visitCount" => SortKey::VisitCount,
                        "description" => SortKey::Description,
                        "username" => SortKey::Username,
                        "id" => SortKey::Id,
                        _ => return Err(ApiError::invalid("_sort", "unknown field")),
                    }
                }
                "_order" => {
                    order_given = true;
                    q.descending = match v.to_ascii_uppercase().as_str() {
                        "ASC" => false,
                        "DESC" => true,
                        _ => return Err(ApiError::invalid("_order", "must be ASC or DESC")),
                    }
                }
                _ => {}
            }
        }
        // A sort field without an order sorts ascending, as react-admin's json-server does.
        if !order_given && !matches!(q.sort, SortKey::CreatedAt) {
            q.descending = false;
        }
        Ok(q)
    }

    pub fn sort(&self, shares: &mut [&Share]) {
        shares.sort_by(|a, b| {
            let o = self
                .compare(a, b)
                .then_with(|| a.created_at.cmp(&b.created_at))
                .then_with(|| a.id.cmp(&b.id));
            if self.descending {
                o.reverse()
            } else {
                o
            }
        });
    }

    fn compare(&self, a: &Share, b: &Share) -> Ordering {
        match self.sort {
            SortKey::CreatedAt => a.created_at.cmp(&b.created_at),
            SortKey::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            SortKey::ExpiresAt => a.expires_at.cmp(&b.expires_at),
            SortKey::LastVisitedAt => a.last_visited_at.cmp(&b.last_visited_at),
            SortKey::VisitCount => a.visit_count.cmp(&b.visit_count),
            SortKey::Description => a.description.cmp(&b.description),
            SortKey::Username => a.owner_name.cmp(&b.owner_name),
            SortKey::Id => a.id.cmp(&b.id),
        }
    }

    pub fn page<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let end = self.end.unwrap_or(items.len()).min(items.len());
        let start = self.start.min(end);
        &items[start..end]
    }
}
