//! What the commands do, as the command line and the language server both drive it:
//! functions of a spec's text that return plain data, and diagnostics rendered for people
//! and tools. Parsing arguments, the terminal and exit codes stay in the binary.

pub mod init;
pub mod jsonschema;
pub mod render;
pub mod session;
pub mod synthetic;
