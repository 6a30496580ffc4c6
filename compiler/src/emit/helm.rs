//! `helm/<project>/`: one chart for the project (in progress).

use super::{Artifacts, Options};
use crate::model::Spec;

pub fn emit(_spec: &Spec, _opts: &Options, _header: &str, _out: &mut Artifacts) -> Result<(), String> {
    Ok(())
}
