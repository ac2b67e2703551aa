//! The decision's rules one by one (`allow`), each against the proof that does and the
//! proofs that do not satisfy it. The whole path, over HTTP, is tests/public_access*.rs.

use super::*;
use crate::domain::{LinkId, PasswordHash, ShareId};
use time::OffsetDateTime;

fn share() -> Share {
    Share {
        downloadable: true,
        ..Share::sample(
            ShareId::parse("abc").unwrap(),
            "alice",
            OffsetDateTime::now_utc(),
        )
    }
}

fn with_password() -> Share {
    Share {
        password: PasswordHash::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        ),
        password_version: 2,
        ..share()
    }
}

fn link(max_visits: Option<u32>, visits: u64) -> ShareLink {
    ShareLink {
        id: LinkId::parse("bob").unwrap(),
        label: "Bob".into(),
        max_visits,
        visit_count: visits,
        preview_count: 0,
        last_visited_at: None,
        created_at: OffsetDateTime::now_utc(),
        revoked_at: None,
    }
}

const ALL: [Purpose; 7] = [
    Purpose::Visit,
    Purpose::Preview,
    Purpose::Head,
    Purpose::Media,
    Purpose::Cover,
    Purpose::About,
    Purpose::Unlock,
];

fn none() -> Proofs {
    Proofs::default()
}

fn key(kind: KeyKind) -> Proofs {
    Proofs {
        key: Some(kind),
        ..Proofs::default()
    }
}

fn code(r: Result<Basis, ApiError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code.as_str(),
    }
}

#[test]
fn an_open_share_needs_nothing_on_any_path() {
    for p in ALL {
        assert_eq!(
            allow(&share(), None, p, &none(), None).unwrap(),
            Basis::Open
        );
    }
}

#[test]
fn a_password_share_needs_proof_on_every_path_but_the_unlock_form() {
    let s = with_password();
    for p in ALL {
        let expected = if p == Purpose::Unlock {
            "ok"
        } else {
            "password-required"
        };
        assert_eq!(code(allow(&s, None, p, &none(), None)), expected, "{p:?}");
        // A cover key proves no password, and a wrong password is a wrong password.
        assert_eq!(
            code(allow(&s, None, p, &key(KeyKind::Cover), None)),
            expected
        );
        let wrong = Proofs {
            password: Some(false),
            ..Proofs::default()
        };
        assert_eq!(code(allow(&s, None, p, &wrong, None)), "password-required");
    }
    let right = Proofs {
        password: Some(true),
        ..Proofs::default()
    };
    let cookie = Proofs {
        cookie: true,
        ..Proofs::default()
    };
    for (proof, basis) in [
        (key(KeyKind::Visit), Basis::Key),
        (key(KeyKind::Unlock), Basis::Key),
        (cookie, Basis::Cookie),
        (right, Basis::Password),
    ] {
        for p in ALL {
            assert_eq!(allow(&s, None, p, &proof, None).unwrap(), basis, "{p:?}");
        }
    }
}

#[test]
fn a_limited_share_refuses_visits_once_spent_never_previews_and_its_media_need_a_key() {
    let mut s = Share {
        max_visits: Some(2),
        visit_count: 1,
        ..share()
    };
    for p in [
        Purpose::Visit,
        Purpose::Head,
        Purpose::Preview,
        Purpose::About,
    ] {
        assert_eq!(code(allow(&s, None, p, &none(), None)), "ok", "{p:?}");
    }
    assert_eq!(
        code(allow(&s, None, Purpose::Media, &none(), None)),
        "access-key-required"
    );
    assert_eq!(
        code(allow(&s, None, Purpose::Cover, &none(), None)),
        "access-key-required"
    );
    assert_eq!(
        code(allow(&s, None, Purpose::Media, &key(KeyKind::Cover), None)),
        "access-key-required"
    );
    assert_eq!(
        code(allow(&s, None, Purpose::Media, &key(KeyKind::Unlock), None)),
        "access-key-required",
        "an unlock cookie's token is no visit"
    );
    assert_eq!(
        code(allow(&s, None, Purpose::Cover, &key(KeyKind::Cover), None)),
        "ok"
    );
    s.visit_count = 2;
    for p in [Purpose::Visit, Purpose::Head] {
        assert_eq!(
            code(allow(&s, None, p, &key(KeyKind::Visit), None)),
            "visit-limit-reached"
        );
    }
    // A page opened before the limit keeps playing: its key still opens the media.
    for p in [
        Purpose::Media,
        Purpose::Cover,
        Purpose::Preview,
        Purpose::About,
    ] {
        assert_eq!(
            code(allow(&s, None, p, &key(KeyKind::Visit), None)),
            "ok",
            "{p:?}"
        );
    }
}

#[test]
fn a_link_counts_its_own_limit_and_its_media_need_a_key_even_without_one() {
    let s = share();
    let open_link = link(None, 5);
    assert_eq!(
        code(allow(&s, Some(&open_link), Purpose::Visit, &none(), None)),
        "ok"
    );
    assert_eq!(
        code(allow(&s, Some(&open_link), Purpose::Media, &none(), None)),
        "access-key-required"
    );
    let spent = link(Some(5), 5);
    assert_eq!(
        code(allow(&s, Some(&spent), Purpose::Visit, &none(), None)),
        "visit-limit-reached"
    );
    assert_eq!(
        code(allow(
            &s,
            Some(&spent),
            Purpose::Media,
            &key(KeyKind::Visit),
            None
        )),
        "ok"
    );
}

#[test]
fn a_running_transfer_is_held_to_the_proof_it_got_in_on() {
    // Admitted with a key; the key no longer holds (a new password version): ended, also on
    // a share that has meanwhile become open to everyone.
    for s in [share(), with_password()] {
        let r = allow(&s, None, Purpose::Media, &none(), Some(Basis::Key));
        let expected = if s.has_password() {
            "password-required"
        } else {
            "access-key-required"
        };
        assert_eq!(code(r), expected);
    }
    let cookie = Proofs {
        cookie: true,
        ..Proofs::default()
    };
    assert_eq!(
        code(allow(
            &share(),
            None,
            Purpose::Media,
            &none(),
            Some(Basis::Cookie)
        )),
        "access-key-required"
    );
    assert_eq!(
        code(allow(
            &with_password(),
            None,
            Purpose::Media,
            &cookie,
            Some(Basis::Cookie)
        )),
        "ok"
    );
    assert_eq!(
        code(allow(
            &share(),
            None,
            Purpose::Media,
            &none(),
            Some(Basis::Open)
        )),
        "ok"
    );
    let stale = Proofs {
        password: None,
        ..Proofs::default()
    };
    assert_eq!(
        code(allow(
            &share(),
            None,
            Purpose::Media,
            &stale,
            Some(Basis::Password)
        )),
        "access-key-required"
    );
}
