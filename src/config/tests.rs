use super::*;
use std::collections::HashMap;

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn no_file_gives_the_embedded_defaults() {
    let s = Settings::load(None, no_env).expect("defaults");
    assert_eq!(s.listen.port(), 4534);
    assert!(s.sharing.enabled);
    assert_eq!(s.audit.client_ip, ClientIpMode::Hash);
    assert_eq!(s.public_access.rate_limit.per_minute, 300);
}

#[test]
fn the_audit_feed_settings_default_and_refuse_zero() {
    let s = Settings::load(None, no_env).expect("defaults");
    assert_eq!(
        (
            s.audit.max_followers,
            s.audit.heartbeat_seconds,
            s.audit.follower_buffer,
            s.audit.follower_timeout_seconds
        ),
        (8, 15, 64, 60)
    );
    for key in [
        "heartbeatSeconds",
        "followerBuffer",
        "followerTimeoutSeconds",
    ] {
        let mut s = Settings::from_yaml(&format!("audit:\n  {key}: 0\n")).unwrap();
        let err = s.validate().unwrap_err();
        assert!(err.0.contains(&format!("audit.{key}")), "{err}");
    }
    let mut off = Settings::from_yaml("audit:\n  maxFollowers: 0\n").unwrap();
    assert!(off.validate().is_ok(), "0 followers turns following off");
}

#[test]
fn the_shipped_example_config_loads() {
    let text = include_str!("../../deploy/sharelog.example.yaml");
    let mut s = Settings::from_yaml(text).expect("deploy/sharelog.example.yaml");
    s.validate().expect("valid");
    assert_eq!(s.audit.max_followers, 8);
    assert_eq!(
        s.limits,
        Limits::default(),
        "the example shows the defaults"
    );
}

#[test]
fn an_unknown_key_is_named() {
    let err = Settings::from_yaml("sharing:\n  enabeld: true\n").unwrap_err();
    assert!(err.0.contains("enabeld"), "{err}");
}

#[test]
fn a_wrong_type_names_its_key() {
    let err = Settings::from_yaml("sharing:\n  maxBitrate: lots\n").unwrap_err();
    assert!(err.0.contains("maxBitrate"), "{err}");
}

#[test]
fn an_invalid_cidr_is_refused() {
    let err = Settings::from_yaml("trustedProxies: [\"10.0.0.0/33\"]\n").unwrap_err();
    assert!(
        err.0.contains("trustedProxies") && err.0.contains("10.0.0.0/33"),
        "{err}"
    );
}

#[test]
fn an_invalid_url_names_its_key() {
    let env = |k: &str| (k == "SHARELOG_UPSTREAM_URL").then(|| "ftp://x".to_string());
    let err = Settings::load(None, env).unwrap_err();
    assert!(err.0.contains("upstream.url"), "{err}");
}

#[test]
fn env_vars_override_the_file_and_secrets_stay_out_of_debug_output() {
    let vars: HashMap<&str, &str> = [
        ("SHARELOG_JWT_SECRET", "hunter2-hunter2-hunter2"),
        ("SHARELOG_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
    ]
    .into();
    let s = Settings::load(None, |k| vars.get(k).map(|v| v.to_string())).expect("ok");
    assert_eq!(s.auth.jwt_secret, "hunter2-hunter2-hunter2");
    assert!(s.is_trusted_proxy("10.1.2.3".parse().expect("ip")));
    assert!(s.is_trusted_proxy("::1".parse().expect("ip")));
    assert!(!s.is_trusted_proxy("11.0.0.1".parse().expect("ip")));
    assert!(!format!("{s:?}").contains("hunter2-hunter2-hunter2"));
}

#[test]
fn cidrs_match_by_prefix_including_v4_mapped_v6() {
    let c = Cidr::parse("192.168.1.0/24").expect("cidr");
    assert!(c.contains("192.168.1.77".parse().expect("ip")));
    assert!(c.contains("::ffff:192.168.1.5".parse().expect("ip")));
    assert!(!c.contains("192.168.2.1".parse().expect("ip")));
    assert!(Cidr::parse("0.0.0.0/0")
        .expect("cidr")
        .contains("8.8.8.8".parse().expect("ip")));
}

#[test]
fn the_navidrome_url_comes_from_env_and_is_validated() {
    let env = |k: &str| (k == "SHARELOG_NAVIDROME_URL").then(|| "http://nd:4533/".to_string());
    let s = Settings::load(None, env).expect("ok");
    assert_eq!(s.auth.navidrome_url, "http://nd:4533");
    let env = |k: &str| (k == "SHARELOG_NAVIDROME_URL").then(|| "nd:4533".to_string());
    let err = Settings::load(None, env).unwrap_err();
    assert!(err.0.contains("auth.navidromeUrl"), "{err}");
    assert!(Settings::load(None, no_env)
        .expect("defaults")
        .auth
        .navidrome_url
        .is_empty());
}

#[test]
fn preview_agents_default_to_the_common_unfurlers_and_can_be_replaced() {
    let s = Settings::load(None, no_env).unwrap();
    for bot in ["Slackbot", "Discordbot", "facebookexternalhit", "Googlebot"] {
        assert!(
            s.public_access.preview_agents.iter().any(|a| a == bot),
            "{bot}"
        );
    }
    let s = Settings::from_yaml("publicAccess:\n  previewAgents: [MyBot]\n").unwrap();
    assert_eq!(s.public_access.preview_agents, vec!["MyBot".to_string()]);
}

#[test]
fn an_empty_preview_agent_is_refused_because_it_would_match_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, "publicAccess:\n  previewAgents: [\"\"]\n").unwrap();
    let err = Settings::load(Some(&path), no_env).unwrap_err();
    assert!(err.0.contains("publicAccess.previewAgents"), "{err}");
}

#[test]
fn a_url_with_a_user_or_password_is_refused_without_echoing_them() {
    for url in [
        "http://sharelog:s3cr3t-pw@music:4533",
        "https://sharelog@music:4533/",
        "http://a:b@c:s3cr3t-pw@music",
    ] {
        let env = |k: &str| (k == "SHARELOG_UPSTREAM_URL").then(|| url.to_string());
        let err = Settings::load(None, env).unwrap_err().0;
        assert!(
            err.starts_with("upstream.url: must not hold a user name or password")
                && err.contains("upstream.password"),
            "{err}"
        );
        assert!(
            !err.contains("s3cr3t-pw") && !err.contains("sharelog@"),
            "{err}"
        );
    }
    assert_eq!(
        without_userinfo("http://u:p@host:1/x?y=@z"),
        "http://***@host:1/x?y=@z"
    );
    assert_eq!(without_userinfo("http://host/a@b"), "http://host/a@b");
}
