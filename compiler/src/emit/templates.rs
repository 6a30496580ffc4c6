//! The template environment: every template of `stdlib/templates/`, embedded, with strict
//! undefined and the encoders of [`super::inert`] as filters.

use minijinja::{Environment, ErrorKind, UndefinedBehavior};

use super::inert;

const TEMPLATES: &[(&str, &str)] = &[
    ("build.sh", include_str!("../../../stdlib/templates/build.sh.j2")),
    ("Dockerfile", include_str!("../../../stdlib/templates/Dockerfile.j2")),
    ("dockerignore", include_str!("../../../stdlib/templates/dockerignore.j2")),
    ("unit.service", include_str!("../../../stdlib/templates/unit.service.j2")),
    ("unit.timer", include_str!("../../../stdlib/templates/unit.timer.j2")),
    ("unit.socket", include_str!("../../../stdlib/templates/unit.socket.j2")),
    ("unit.env", include_str!("../../../stdlib/templates/unit.env.j2")),
    ("lifecycle.sh", include_str!("../../../stdlib/templates/lifecycle.sh.j2")),
    ("nginx.conf", include_str!("../../../stdlib/templates/nginx.conf.j2")),
];

/// Every template, compiled when one is first rendered: a run whose artifacts need none (a
/// spec of Kubernetes environments with nothing to build) compiles none.
#[derive(Default)]
pub struct Templates(std::sync::OnceLock<Environment<'static>>);

impl Templates {
    /// The template environment, compiled on first use.
    pub fn compiled(&self) -> &Environment<'static> {
        self.0.get_or_init(compile)
    }
}

/// The templates, to be compiled when first rendered.
pub fn environment() -> Templates {
    Templates::default()
}

/// A template environment with every template loaded.
fn compile() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    match minijinja::syntax::SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).keep_trailing_newline(true).build() {
        Ok(syntax) => env.set_syntax(syntax),
        Err(e) => panic!("the template syntax is invalid: {e}"),
    }
    env.add_filter("sh", |s: String| inert::shell(&s));
    env.add_filter("systemd_arg", |s: String| inert::systemd_arg(&s));
    env.add_filter("systemd_value", |s: String| inert::systemd_value(&s));
    env.add_filter("systemd_word", |s: String| inert::systemd_word(&s));
    env.add_filter("env_value", |s: String| inert::env_file(&s));
    env.add_filter("comment", |s: String| inert::comment(&s));
    // The encoders that refuse a string fail the render: a string the checker let through
    // but the artifact cannot hold is an internal error, never a broken artifact.
    env.add_filter("dockerfile_string", |s: String| inert::dockerfile_string(&s).map_err(invalid));
    env.add_filter("dockerfile_word", |s: String| inert::dockerfile_word(&s).map_err(invalid));
    env.add_filter("dockerfile_sh", |s: String| inert::dockerfile_shell_word(&s).map_err(invalid));
    env.add_filter("dockerignore", |s: String| inert::dockerignore_pattern(&s).map_err(invalid));
    env.add_filter("nginx", |s: String| inert::nginx_word(&s).map_err(invalid));
    for (name, source) in TEMPLATES {
        // The templates ship with the binary; a broken one is caught by this crate's tests.
        if let Err(e) = env.add_template(name, source) {
            panic!("template {name} does not compile: {e}");
        }
    }
    env
}

/// Renders one template with a context.
pub fn render(templates: &Templates, name: &str, ctx: impl serde::Serialize) -> Result<String, String> {
    templates
        .compiled()
        .get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(ctx)))
        .map_err(|e| format!("template {name}: {e:#}"))
}

fn invalid(why: String) -> minijinja::Error {
    minijinja::Error::new(ErrorKind::InvalidOperation, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let templates = environment();
        for (name, _) in TEMPLATES {
            assert!(templates.compiled().get_template(name).is_ok(), "{name}");
        }
    }
}
