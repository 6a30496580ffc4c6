//! The one place that turns the library's plain data (byte spans, diagnostics, strings)
//! into LSP types, and LSP positions into byte offsets.

use lsp_types as lsp;

use crate::diagnostics::{Diagnostic, Severity, code};
use crate::span::Span;

use super::actions::{Action, Edit};
use super::completion::{Item, ItemKind};
use super::hover::Hover;
use super::outline::{Symbol, SymbolKind};
use super::position::{Encoding, LineCol, LineIndex};

/// A document's text and the index of its lines, which every conversion needs.
#[derive(Clone, Copy)]
pub struct Text<'a> {
    pub text: &'a str,
    pub index: &'a LineIndex,
}

impl Text<'_> {
    pub fn position(&self, offset: usize) -> lsp::Position {
        let lc = self.index.line_col(self.text, offset);
        lsp::Position { line: lc.line, character: lc.col }
    }

    pub fn range(&self, span: Span) -> lsp::Range {
        lsp::Range { start: self.position(span.start as usize), end: self.position(span.end as usize) }
    }

    pub fn offset(&self, pos: lsp::Position) -> usize {
        self.index.offset(self.text, LineCol { line: pos.line, col: pos.character })
    }

    pub fn span(&self, range: lsp::Range) -> Span {
        let (a, b) = (self.offset(range.start), self.offset(range.end));
        Span::new(a.min(b), a.max(b))
    }
}

pub fn encoding_kind(e: Encoding) -> lsp::PositionEncodingKind {
    match e {
        Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
        Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
        Encoding::Utf32 => lsp::PositionEncodingKind::UTF32,
    }
}

/// The first encoding the client offers that the server knows (clients list them in order
/// of preference); UTF-16 when it offers none, as LSP requires.
pub fn negotiate(offered: Option<&[lsp::PositionEncodingKind]>) -> Encoding {
    for kind in offered.unwrap_or_default() {
        match kind.as_str() {
            "utf-8" => return Encoding::Utf8,
            "utf-16" => return Encoding::Utf16,
            "utf-32" => return Encoding::Utf32,
            _ => {}
        }
    }
    Encoding::Utf16
}

pub fn diagnostic(uri: &lsp::Uri, t: Text<'_>, d: &Diagnostic) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    // Messages about one environment usually name it already.
    if !d.environments.is_empty() && !d.environments.iter().all(|e| d.message.contains(&format!("`{e}`"))) {
        message.push_str(&format!(" (in environment{} {})", if d.environments.len() == 1 { "" } else { "s" }, d.environments.join(", ")));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .map(|l| lsp::DiagnosticRelatedInformation {
            location: lsp::Location { uri: uri.clone(), range: t.range(l.span) },
            message: l.message.clone().unwrap_or_else(|| "related".to_owned()),
        })
        .collect();
    let unnecessary = d.code == code::UNUSED_SECRET || d.code == code::UNUSED_ALLOW;
    lsp::Diagnostic {
        range: t.range(d.primary_span()),
        severity: Some(match d.severity() {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.id.to_owned())),
        source: Some("hawser".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: unnecessary.then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        ..lsp::Diagnostic::default()
    }
}

pub fn hover(t: Text<'_>, h: Hover) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent { kind: lsp::MarkupKind::Markdown, value: h.markdown }),
        range: Some(t.range(h.span)),
    }
}

pub fn completion(t: Text<'_>, start: usize, cursor: usize, items: Vec<Item>) -> lsp::CompletionResponse {
    let range = t.range(Span::new(start, cursor));
    let items = items
        .into_iter()
        .map(|i| lsp::CompletionItem {
            label: i.label,
            kind: Some(match i.kind {
                ItemKind::Node => lsp::CompletionItemKind::CLASS,
                ItemKind::Property => lsp::CompletionItemKind::PROPERTY,
                ItemKind::Value => lsp::CompletionItemKind::ENUM_MEMBER,
                ItemKind::Reference => lsp::CompletionItemKind::REFERENCE,
            }),
            detail: Some(i.detail),
            documentation: if i.doc.is_empty() {
                None
            } else {
                Some(lsp::Documentation::MarkupContent(lsp::MarkupContent { kind: lsp::MarkupKind::Markdown, value: i.doc }))
            },
            text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit { range, new_text: i.insert })),
            ..lsp::CompletionItem::default()
        })
        .collect();
    lsp::CompletionResponse::List(lsp::CompletionList { is_incomplete: false, items })
}

pub fn location(uri: &lsp::Uri, t: Text<'_>, span: Span) -> lsp::Location {
    lsp::Location { uri: uri.clone(), range: t.range(span) }
}

pub fn text_edit(t: Text<'_>, e: &Edit) -> lsp::TextEdit {
    lsp::TextEdit { range: t.range(e.span), new_text: e.text.clone() }
}

/// Edits of one document, as a workspace edit (document changes: no hash map involved).
pub fn workspace_edit(uri: &lsp::Uri, version: Option<i32>, t: Text<'_>, edits: &[Edit]) -> lsp::WorkspaceEdit {
    lsp::WorkspaceEdit {
        document_changes: Some(lsp::DocumentChanges::Edits(vec![lsp::TextDocumentEdit {
            text_document: lsp::OptionalVersionedTextDocumentIdentifier { uri: uri.clone(), version },
            edits: edits.iter().map(|e| lsp::OneOf::Left(text_edit(t, e))).collect(),
        }])),
        ..lsp::WorkspaceEdit::default()
    }
}

pub fn code_action(uri: &lsp::Uri, version: i32, t: Text<'_>, a: &Action) -> lsp::CodeActionOrCommand {
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title: a.title.clone(),
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic(uri, t, &a.fixes)]),
        edit: Some(workspace_edit(uri, Some(version), t, &a.edits)),
        is_preferred: Some(a.preferred),
        ..lsp::CodeAction::default()
    })
}

#[allow(deprecated, reason = "DocumentSymbol's `deprecated` field must be given, as None")]
pub fn symbol(t: Text<'_>, s: Symbol) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name: s.name,
        detail: s.detail,
        kind: match s.kind {
            SymbolKind::Module => lsp::SymbolKind::MODULE,
            SymbolKind::Constant => lsp::SymbolKind::CONSTANT,
            SymbolKind::Field => lsp::SymbolKind::FIELD,
            SymbolKind::Property => lsp::SymbolKind::PROPERTY,
            SymbolKind::Package => lsp::SymbolKind::PACKAGE,
        },
        tags: None,
        deprecated: None,
        range: t.range(s.span),
        selection_range: t.range(s.selection),
        children: (!s.children.is_empty()).then(|| s.children.into_iter().map(|c| symbol(t, c)).collect()),
    }
}

pub fn folding(t: Text<'_>, span: Span) -> Option<lsp::FoldingRange> {
    let (start, end) = (t.position(span.start as usize), t.position(span.end as usize));
    (end.line > start.line).then(|| lsp::FoldingRange {
        start_line: start.line,
        end_line: end.line,
        kind: Some(lsp::FoldingRangeKind::Region),
        ..lsp::FoldingRange::default()
    })
}

pub fn inlay_hint(t: Text<'_>, offset: usize, label: String, tooltip: Option<String>) -> lsp::InlayHint {
    lsp::InlayHint {
        position: t.position(offset),
        label: lsp::InlayHintLabel::String(label),
        kind: None,
        text_edits: None,
        tooltip: tooltip.map(lsp::InlayHintTooltip::String),
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}
