//! Share passwords: the clear text as a request carries it (never shown, never
//! logged), checked by the domain's rule, and hashed with argon2id off the async
//! runtime. Only the hash goes on: into the command, the event, the share's row.

use super::ShareError;
use crate::domain::{check_password, DomainError, PasswordHash};
use argon2::password_hash::{PasswordHash as Phc, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::fmt;

/// A password in clear, as a client sent it. Its `Debug` shows nothing of it, and it
/// has no `Display` and no `Serialize`: the text leaves only through `hash` and `verify`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClearPassword(String);

impl ClearPassword {
    pub fn new(text: String) -> Self {
        ClearPassword(text)
    }

    /// The domain's rule for a password (4–128 characters), before anything is hashed.
    pub fn check(&self) -> Result<(), DomainError> {
        check_password(&self.0)
    }
}

impl fmt::Debug for ClearPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClearPassword(<redacted>)")
    }
}

/// argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's
/// recommendation) and a fresh 16-byte salt from the OS.
fn hash_now(clear: &ClearPassword) -> Result<PasswordHash, ShareError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(ShareError::NoRandom)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ShareError::Hashing(e.to_string()))?;
    let phc = Argon2::default()
        .hash_password(clear.0.as_bytes(), &salt)
        .map_err(|e| ShareError::Hashing(e.to_string()))?
        .to_string();
    PasswordHash::parse(&phc)
        .ok_or_else(|| ShareError::Hashing("argon2 gave no argon2id PHC string".into()))
}

/// Hashes `clear` (checked first) on the blocking pool: tens of milliseconds of CPU
/// and 19 MiB, which must not hold up an async worker.
pub async fn hash(clear: ClearPassword) -> Result<PasswordHash, ShareError> {
    clear.check()?;
    actix_web::rt::task::spawn_blocking(move || hash_now(&clear))
        .await
        .map_err(|e| ShareError::Hashing(format!("hashing task: {e}")))?
}

/// Whether `clear` is the password `hash` was made from (on the blocking pool, like
/// `hash`). For the public side's unlock; a hash that does not parse verifies nothing.
pub async fn verify(hash: PasswordHash, clear: ClearPassword) -> bool {
    actix_web::rt::task::spawn_blocking(move || verify_now(&hash, &clear))
        .await
        .unwrap_or(false)
}

fn verify_now(hash: &PasswordHash, clear: &ClearPassword) -> bool {
    Phc::new(hash.as_str()).is_ok_and(|phc| {
        Argon2::default()
            .verify_password(clear.0.as_bytes(), &phc)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let clear = ClearPassword::new("correct horse".into());
        let a = hash_now(&clear).unwrap();
        let b = hash_now(&clear).unwrap();
        assert!(a.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b, "a fresh salt every time");
        assert!(!a.as_str().contains("correct horse"));
        assert!(verify_now(&a, &clear));
        assert!(verify_now(&b, &clear));
        assert!(!verify_now(&a, &ClearPassword::new("correct horsE".into())));
        assert_eq!(format!("{clear:?}"), "ClearPassword(<redacted>)");
    }
}
