//! The sequence diagram of a run, as inline SVG: a lifeline for each principal and each
//! service, an arrow per recorded call in order, the calls a service made for it (dashed) under
//! each, the refused ones in red with the AWS error code, and the phases as bands.
//!
//! Every text comes from a redacted report and is escaped ([`super::esc`]); the SVG names no
//! external resource, so the page works offline.

use std::fmt::Write as _;

use wana_i18n::{tr, Lang};

use super::{
    esc,
    inner::{step_service, InnerCall},
    phase_name,
};
use crate::{
    origin::Origin,
    outcome::{Phase, Step},
    report::RunReport,
};

const LEFT: f64 = 112.0;
const COLUMN: f64 = 176.0;
const BOX_WIDTH: f64 = 160.0;
const BOX_HEIGHT: f64 = 42.0;
const TOP: f64 = 12.0;
const OUTER_ROW: f64 = 32.0;
const INNER_ROW: f64 = 28.0;
const RED: &str = "#c62828";
const INK: &str = "#1f2937";

/// A column: a principal (by its label) or a service (by its key, `ec2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lifeline {
    Principal(String),
    Service(String),
}

impl Lifeline {
    fn name(&self) -> String {
        match self {
            Lifeline::Principal(label) => label.clone(),
            Lifeline::Service(key) => service_display(key).to_string(),
        }
    }
}

/// What each row draws.
enum Row<'a> {
    Outer { number: usize, step: &'a Step },
    Inner { call: &'a InnerCall, phase: Phase },
}

impl Row<'_> {
    fn phase(&self) -> Phase {
        match self {
            Row::Outer { step, .. } => step.phase,
            Row::Inner { phase, .. } => *phase,
        }
    }

    fn height(&self) -> f64 {
        match self {
            Row::Outer { .. } => OUTER_ROW,
            Row::Inner { .. } => INNER_ROW,
        }
    }
}

/// `EC2`, `KMS`, `Auto Scaling`, ... as AWS writes the services' names.
pub(crate) fn service_display(key: &str) -> &str {
    match key {
        "ec2" => "EC2",
        "kms" => "KMS",
        "iam" => "IAM",
        "sts" => "STS",
        "ssm" => "Systems Manager",
        "autoscaling" => "Auto Scaling",
        "cloudwatch" => "CloudWatch",
        "cloudformation" => "CloudFormation",
        "s3" => "S3",
        "organizations" => "Organizations",
        "events" => "CloudWatch Events",
        "aws" => "AWS",
        other => other,
    }
}

/// The error code a service answers a refused call with (inner calls are not answered to the
/// run, so the code is the service's, not one recorded).
pub(crate) fn denied_code(action: &str) -> &'static str {
    match action.split(':').next().unwrap_or("") {
        "ec2" => "UnauthorizedOperation",
        "kms" | "ssm" | "ec2messages" | "ssmmessages" => "AccessDeniedException",
        _ => "AccessDenied",
    }
}

/// The steps the diagram draws: all but teardown, which the step list shows.
pub(crate) fn drawn(step: &Step) -> bool {
    step.phase != Phase::Teardown
}

/// The lifelines of a run, principals first, each in order of first appearance.
pub(crate) fn lifelines(report: &RunReport) -> Vec<Lifeline> {
    let mut principals = Vec::new();
    let mut services = Vec::new();
    let add = |list: &mut Vec<Lifeline>, line: Lifeline| {
        if !list.contains(&line) {
            list.push(line);
        }
    };
    for (index, step) in report.steps.iter().enumerate().filter(|(_, s)| drawn(s)) {
        add(&mut principals, Lifeline::Principal(step.principal.clone()));
        add(&mut services, Lifeline::Service(step_service(&step.call)));
        for call in report.inner_calls.iter().filter(|c| c.step == index) {
            add(&mut services, Lifeline::Service(call.from_service()));
            add(&mut services, Lifeline::Service(call.to_service()));
        }
    }
    principals.extend(services);
    principals
}

/// The label of an inner call: the action and as whom the service made it.
pub(crate) fn inner_label(lang: Lang, call: &InnerCall) -> String {
    let action = &call.action;
    let caller = caller_name(&call.principal);
    let mut label = match &call.origin {
        Origin::ForwardAccess {
            caller_assumed_by: None,
            ..
        } => {
            tr!(
                lang,
                "report.inner.forward_access",
                action = action,
                caller = caller
            )
        }
        Origin::ForwardAccess {
            caller_assumed_by: Some(_),
            ..
        } => {
            tr!(
                lang,
                "report.inner.forward_access_service_role",
                action = action,
                caller = caller
            )
        }
        Origin::ServiceRoleSession {
            role,
            instance: Some(instance),
            ..
        } => {
            if ["ssm:", "ec2messages:", "ssmmessages:"]
                .iter()
                .any(|p| action.starts_with(p))
            {
                tr!(
                    lang,
                    "report.inner.agent",
                    action = action,
                    instance = instance,
                    role = role
                )
            } else {
                tr!(
                    lang,
                    "report.inner.instance_software",
                    action = action,
                    instance = instance,
                    role = role
                )
            }
        }
        Origin::ServiceRoleSession {
            role,
            instance: None,
            ..
        } => {
            tr!(
                lang,
                "report.inner.service_role",
                action = action,
                role = role
            )
        }
        Origin::Service { .. } => tr!(lang, "report.inner.service_itself", action = action),
        Origin::StoredCredential | Origin::Request => {
            tr!(lang, "report.inner.stored_key", action = action)
        }
    };
    if call.count > 1 {
        let _ = write!(label, " ×{}", call.count);
    }
    label
}

/// `ThirdPartyRole/scheduled-start` for a role session's ARN, `user/admin` for a user's.
fn caller_name(arn: &str) -> &str {
    match arn.splitn(6, ':').nth(5) {
        Some(resource) => resource.strip_prefix("assumed-role/").unwrap_or(resource),
        None => arn,
    }
}

/// About how wide a text is drawn at 12px (CJK characters are square).
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if (c as u32) > 0x2E80 { 12.5 } else { 7.0 })
        .sum()
}

/// The diagram of one run; `id` keeps its marker ids apart from other runs' on the same page.
pub(crate) fn render(report: &RunReport, lang: Lang, id: &str) -> String {
    let lines = lifelines(report);
    let x_of = |line: &Lifeline| {
        let index = lines.iter().position(|l| l == line).unwrap_or(0);
        LEFT + BOX_WIDTH / 2.0 + index as f64 * COLUMN
    };
    let mut rows = Vec::new();
    let mut number = 0;
    for (index, step) in report.steps.iter().enumerate().filter(|(_, s)| drawn(s)) {
        number += 1;
        rows.push(Row::Outer { number, step });
        for call in report.inner_calls.iter().filter(|c| c.step == index) {
            rows.push(Row::Inner {
                call,
                phase: step.phase,
            });
        }
    }

    // Geometry first: each row's y, its arrow's ends, its label; then the width they need.
    let head = TOP + BOX_HEIGHT + 18.0;
    let mut y = head;
    let mut drawn_rows = Vec::new();
    let mut width = LEFT + lines.len() as f64 * COLUMN;
    for row in &rows {
        let (from, to, label, failed_code) = match row {
            Row::Outer { number, step } => {
                let from = x_of(&Lifeline::Principal(step.principal.clone()));
                let to = x_of(&Lifeline::Service(step_service(&step.call)));
                let code =
                    (!step.ok).then(|| step.error_code.clone().unwrap_or_else(|| "Error".into()));
                (from, to, format!("{number}. {}", step.call), code)
            }
            Row::Inner { call, .. } => {
                let from = x_of(&Lifeline::Service(call.from_service()));
                let to = x_of(&Lifeline::Service(call.to_service()));
                let code = (!call.allowed).then(|| denied_code(&call.action).to_string());
                (from, to, inner_label(lang, call), code)
            }
        };
        let label = match &failed_code {
            Some(code) => format!("{label} ✗ {code}"),
            None => label,
        };
        let label_x = from.min(to) + 8.0;
        width = width.max(label_x + text_width(&label) + 16.0);
        y += row.height();
        drawn_rows.push((row, y, from, to, label, failed_code));
    }
    let height = y + 24.0;

    let mut svg = String::new();
    let title = tr!(lang, "report.diagram_title", trap = report.trap);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-labelledby="{id}-title" font-family="system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK JP', sans-serif" font-size="12"><title id="{id}-title">{}</title>"##,
        esc(&title)
    );
    let _ = write!(
        svg,
        r##"<defs><marker id="{id}-ok" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker><marker id="{id}-red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{RED}"/></marker></defs>"##
    );
    svg.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);

    // Phase bands behind everything.
    let mut band_start = head;
    let mut band_index = 0;
    for (i, (row, bottom, ..)) in drawn_rows.iter().enumerate() {
        let last = i + 1 == drawn_rows.len() || drawn_rows[i + 1].0.phase() != row.phase();
        if last {
            let fill = if band_index % 2 == 0 {
                "#eef3fb"
            } else {
                "#f8f6ee"
            };
            let _ = write!(
                svg,
                r##"<g class="phase" data-phase="{phase}"><rect x="0" y="{band_start:.0}" width="{width:.0}" height="{h:.0}" fill="{fill}"/><text x="10" y="{ty:.0}" font-weight="700" fill="#4b5563">{name}</text></g>"##,
                phase = row.phase().name(),
                h = bottom + 6.0 - band_start,
                ty = band_start + 18.0,
                name = esc(&phase_name(lang, row.phase())),
            );
            band_start = bottom + 6.0;
            band_index += 1;
        }
    }

    // Lifelines and their heads.
    for line in &lines {
        let x = x_of(line);
        let (fill, kind, class) = match line {
            Lifeline::Principal(_) => ("#dbeafe", tr!(lang, "report.principal"), "principal"),
            Lifeline::Service(_) => ("#ffedd5", tr!(lang, "report.service"), "service"),
        };
        let name = line.name();
        let fit = if text_width(&name) > BOX_WIDTH - 12.0 {
            format!(
                r##" textLength="{:.0}" lengthAdjust="spacingAndGlyphs""##,
                BOX_WIDTH - 12.0
            )
        } else {
            String::new()
        };
        let _ = write!(
            svg,
            r##"<g class="lifeline {class}"><line x1="{x:.0}" y1="{y1:.0}" x2="{x:.0}" y2="{y2:.0}" stroke="#9ca3af" stroke-dasharray="4 4"/><rect x="{bx:.0}" y="{TOP:.0}" width="{BOX_WIDTH:.0}" height="{BOX_HEIGHT:.0}" rx="6" fill="{fill}" stroke="#6b7280"/><text class="participant" x="{x:.0}" y="{ny:.0}" text-anchor="middle" font-weight="700" fill="{INK}"{fit}>{name}</text><text x="{x:.0}" y="{ky:.0}" text-anchor="middle" font-size="10" fill="#4b5563">{kind}</text></g>"##,
            y1 = TOP + BOX_HEIGHT,
            y2 = height - 8.0,
            bx = x - BOX_WIDTH / 2.0,
            ny = TOP + 18.0,
            ky = TOP + 33.0,
            name = esc(&name),
            kind = esc(&kind),
        );
    }

    // The calls.
    for (row, bottom, from, to, label, failed_code) in &drawn_rows {
        let y = bottom - 6.0;
        let inner = matches!(row, Row::Inner { .. });
        let failed = failed_code.is_some();
        let (color, marker) = if failed { (RED, "red") } else { (INK, "ok") };
        let class = match (inner, failed) {
            (false, false) => "call",
            (false, true) => "call failed",
            (true, false) => "call inner",
            (true, true) => "call inner failed",
        };
        let code_attr = failed_code
            .as_deref()
            .map(|code| format!(r##" data-error-code="{}""##, esc(code)))
            .unwrap_or_default();
        let dash = if inner {
            r##" stroke-dasharray="6 3""##
        } else {
            ""
        };
        let stroke_width = if failed { 2.5 } else { 1.4 };
        let _ = write!(svg, r##"<g class="{class}"{code_attr}>"##);
        if (from - to).abs() < 1.0 {
            // A call from a service to itself: a small loop.
            let _ = write!(
                svg,
                r##"<path d="M{from:.0},{y0:.0} h28 v10 h-26" fill="none" stroke="{color}" stroke-width="{stroke_width}"{dash} marker-end="url(#{id}-{marker})"/>"##,
                y0 = y - 10.0,
            );
        } else {
            let _ = write!(
                svg,
                r##"<line x1="{from:.0}" y1="{y:.0}" x2="{to:.0}" y2="{y:.0}" stroke="{color}" stroke-width="{stroke_width}"{dash} marker-end="url(#{id}-{marker})"/>"##
            );
        }
        let weight = if failed {
            r##" font-weight="700""##
        } else {
            ""
        };
        let style = if inner {
            r##" font-style="italic""##
        } else {
            ""
        };
        let _ = write!(
            svg,
            r##"<text x="{lx:.0}" y="{ly:.0}" fill="{color}"{weight}{style} stroke="#ffffff" stroke-width="3" paint-order="stroke">{}</text></g>"##,
            esc(label),
            lx = from.min(*to) + 8.0,
            ly = y - 5.0,
        );
    }
    svg.push_str("</svg>");
    svg
}
