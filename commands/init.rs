//! `imx init [--admin NAME [--password-stdin]]`: create the local store (idempotent), and
//! optionally its first admin user.

use imx::auth::Role;
use imx::control::ControlPlane;
use imx::model::{NewToken, NewUser};

use super::context::Context;
use super::error::CliError;
use super::password::{self, Ask};

/// Create the local store at --store (or the default path). Safe to run again.
/// With --admin, also create that admin user and print a token for them once: `imx server`
/// refuses to serve a store without an admin.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx init
  imx --store /srv/imx/imx.db init --admin alice
  printf '%s\\n' \"$PW\" | imx --store /srv/imx/prod.db init --admin alice --password-stdin
  imx init --default-run-timeout 6h
  imx init --database postgres://imx@db.example/imx --admin alice   # a cluster's database")]
pub struct InitArgs {
    /// Create this admin user and print a token for them (valid 90 days), once.
    #[arg(long, value_name = "NAME")]
    pub admin: Option<String>,

    /// Also set the admin's password (first line of stdin), for `imx login`.
    #[arg(long, requires = "admin")]
    pub password_stdin: bool,

    /// Set the store's default run timeout: runs of workflows without `timeout:` (started
    /// without --timeout) time out after it [default: 24h]. `imx server --default-run-timeout`
    /// overrides it for runs started through that server.
    #[arg(long, value_name = "DURATION", value_parser = super::parse::duration)]
    pub default_run_timeout: Option<std::time::Duration>,

    /// Create the schema in this PostgreSQL database (for `imx server --database`) instead of
    /// a SQLite store. Safe to run again; a database with a newer schema is refused.
    #[arg(
        long,
        env = "IMX_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
}

pub async fn run(ctx: &Context, args: InitArgs) -> Result<(), CliError> {
    if args.default_run_timeout.is_some_and(|d| d.is_zero()) {
        return Err(
            CliError::usage("--default-run-timeout must be longer than 0s")
                .with_hint("e.g. --default-run-timeout 6h"),
        );
    }
    let password = if args.password_stdin {
        Some(password::read(
            true,
            &Ask {
                prompt: "",
                confirm: false,
            },
        )?)
    } else {
        None
    };
    if let Some(url) = &args.database {
        ctx.use_database(url);
    }
    let (plane, created) = ctx.open_local(true)?;
    let path = plane.location();
    if created {
        ctx.out().status(format!("Created a new store at {path}"));
    } else if args.admin.is_none() && args.default_run_timeout.is_none() {
        ctx.out()
            .status(format!("A store already exists at {path}; nothing to do."));
    }
    if let Some(d) = args.default_run_timeout {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        plane.set_default_run_timeout(&ctx.principal(), ms)?;
        ctx.out().status(format!(
            "Runs of workflows without `timeout:` now time out after {} by default.",
            imx::model::duration_text(ms)
        ));
    }
    let Some(admin) = args.admin else {
        if created {
            ctx.out()
                .hint("next: imx workflow apply -f <file>, then imx agent run");
        }
        return Ok(());
    };
    let who = ctx.principal();
    let user = plane
        .create_user(
            &who,
            NewUser {
                name: admin,
                role: Role::Admin,
                password,
            },
        )
        .await?;
    let issued = plane
        .create_token(
            &who,
            NewToken {
                name: None,
                user: Some(user.name.clone()),
                role: None,
                // The longest the store allows (90 days unless IMX_MAX_TOKEN_TTL says).
                expires_in_ms: None,
            },
        )
        .await?;
    ctx.out().status(format!(
        "Created admin user {}{}; their token (valid 90 days) follows.",
        user.name,
        if user.has_password {
            " with a password (for imx login)"
        } else {
            ""
        }
    ));
    super::token::print_secret(ctx, &issued)
}
