//! `sharelog token --user NAME [--admin]`: a local owner token, signed with the
//! configured `auth.jwtSecret` exactly as Navidrome signs its session tokens
//! (HS256; `sub`, `uid`, `adm`, `iat`, `exp`), so a person can try the owner API
//! without a Navidrome. Only the token goes to stdout, for `TOKEN=$(sharelog token ...)`.

use super::CommandError;
use super::TokenArgs;
use crate::auth;
use crate::config::Settings;
use crate::domain::{Actor, UserId};
use jwt_simple::prelude::Duration;

pub fn run(settings: &Settings, args: TokenArgs) -> Result<(), CommandError> {
    let secret = &settings.auth.jwt_secret;
    if secret.is_empty() {
        return Err(CommandError::Unusable(
            "no auth.jwtSecret is configured, so a token could not be verified by the server: \
             set SHARELOG_JWT_SECRET (or auth.jwtSecret in the config file) to the secret the \
             server uses"
                .into(),
        ));
    }
    if args.user.trim().is_empty() {
        return Err(CommandError::Unusable(
            "--user: the username is empty".into(),
        ));
    }
    let actor = Actor {
        user_id: UserId(args.uid.unwrap_or_else(|| args.user.clone())),
        username: args.user,
        is_admin: args.admin,
    };
    let token = auth::issue(secret, &actor, Duration::from_hours(args.hours))
        .map_err(|e| CommandError::Unusable(format!("cannot sign the token: {e}")))?;
    println!("{token}");
    Ok(())
}
