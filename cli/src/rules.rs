//! Location rules as the CIB states them (`<rule>` with its expressions and nested rules),
//! read and evaluated against a node's attributes the way Pacemaker does; and scores.

use std::collections::BTreeMap;

use roxmltree::Node;

use crate::cib::{Score, INFINITY};

#[derive(Debug, Clone)]
pub struct Rule {
    pub score: RuleScore,
    /// boolean-op="or"
    pub any: bool,
    pub terms: Vec<Term>,
}

#[derive(Debug, Clone)]
pub enum RuleScore {
    Fixed(Score),
    /// score-attribute: the node attribute's value is the score.
    Attribute(String),
}

#[derive(Debug, Clone)]
pub enum Term {
    Expression(Expression),
    Rule(Rule),
}

#[derive(Debug, Clone)]
pub struct Expression {
    pub attribute: String,
    pub operation: Operation,
    pub value: String,
    pub compare_as: CompareAs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Lt,
    Gt,
    Lte,
    Gte,
    Eq,
    Ne,
    Defined,
    NotDefined,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareAs {
    /// Pacemaker compares strings without regard to case.
    Text,
    Number,
    Version,
}

/// A location rule, or None when it uses what the model does not evaluate (dates, roles,
/// values from resource parameters, unknown operations).
pub(crate) fn read_rule(rule: Node) -> Option<Rule> {
    if rule
        .attribute("role")
        .is_some_and(|r| !r.eq_ignore_ascii_case("started"))
    {
        return None;
    }
    let score = match (rule.attribute("score"), rule.attribute("score-attribute")) {
        (Some(s), _) => RuleScore::Fixed(parse_score(s)?),
        (None, Some(attribute)) => RuleScore::Attribute(attribute.to_string()),
        (None, None) => RuleScore::Fixed(0),
    };
    let any = match rule.attribute("boolean-op") {
        None => false,
        Some(op) if op.eq_ignore_ascii_case("and") => false,
        Some(op) if op.eq_ignore_ascii_case("or") => true,
        Some(_) => return None,
    };
    let mut terms = Vec::new();
    for child in rule.children().filter(Node::is_element) {
        match child.tag_name().name() {
            "expression" => terms.push(Term::Expression(read_expression(child)?)),
            "rule" => terms.push(Term::Rule(read_rule(child)?)),
            _ => return None,
        }
    }
    Some(Rule { score, any, terms })
}

fn read_expression(expression: Node) -> Option<Expression> {
    if expression
        .attribute("value-source")
        .is_some_and(|s| s != "literal")
    {
        return None;
    }
    let operation = match expression.attribute("operation")? {
        "lt" => Operation::Lt,
        "gt" => Operation::Gt,
        "lte" => Operation::Lte,
        "gte" => Operation::Gte,
        "eq" => Operation::Eq,
        "ne" => Operation::Ne,
        "defined" => Operation::Defined,
        "not_defined" => Operation::NotDefined,
        _ => return None,
    };
    let value = expression.attribute("value").unwrap_or("").to_string();
    let ordering = matches!(
        operation,
        Operation::Lt | Operation::Gt | Operation::Lte | Operation::Gte
    );
    let compare_as = match expression.attribute("type") {
        Some("string") => CompareAs::Text,
        Some("integer") | Some("number") => CompareAs::Number,
        Some("version") => CompareAs::Version,
        Some(_) => return None,
        // orderings compare numbers unless told otherwise, equality compares text
        None if ordering => CompareAs::Number,
        None => CompareAs::Text,
    };
    Some(Expression {
        attribute: expression.attribute("attribute")?.to_string(),
        operation,
        value,
        compare_as,
    })
}

impl Rule {
    /// The rule's score on a node with these attributes, if it holds there (None when it does
    /// not); Err when its score-attribute holds no score.
    pub fn score_on(&self, attributes: &BTreeMap<String, String>) -> Result<Option<Score>, String> {
        if !self.holds(attributes) {
            return Ok(None);
        }
        match &self.score {
            RuleScore::Fixed(score) => Ok(Some(*score)),
            RuleScore::Attribute(name) => match attributes.get(name) {
                None => Ok(None),
                Some(value) => parse_score(value)
                    .map(Some)
                    .ok_or_else(|| format!("score-attribute {name}={value} is no score")),
            },
        }
    }

    fn holds(&self, attributes: &BTreeMap<String, String>) -> bool {
        let mut results = self.terms.iter().map(|term| match term {
            Term::Expression(e) => e.holds(attributes),
            Term::Rule(r) => r.holds(attributes),
        });
        // an empty rule holds
        if self.any && !self.terms.is_empty() {
            results.any(|r| r)
        } else {
            results.all(|r| r)
        }
    }
}

impl Expression {
    fn holds(&self, attributes: &BTreeMap<String, String>) -> bool {
        use std::cmp::Ordering::*;
        let ordering = match (self.operation, attributes.get(&self.attribute)) {
            (Operation::Defined, actual) => return actual.is_some(),
            (Operation::NotDefined, actual) => return actual.is_none(),
            // a node without the attribute differs from any value
            (Operation::Ne, None) => return true,
            (_, None) => return false,
            (_, Some(actual)) => self.compare(actual),
        };
        match self.operation {
            Operation::Lt => ordering == Less,
            Operation::Gt => ordering == Greater,
            Operation::Lte => ordering != Greater,
            Operation::Gte => ordering != Less,
            Operation::Eq => ordering == Equal,
            _ => ordering != Equal,
        }
    }

    fn compare(&self, actual: &str) -> std::cmp::Ordering {
        let as_text = || {
            actual
                .to_ascii_lowercase()
                .cmp(&self.value.to_ascii_lowercase())
        };
        match self.compare_as {
            CompareAs::Text => as_text(),
            CompareAs::Number => {
                let parse = |v: &str| v.trim().parse::<f64>().ok();
                match (parse(actual), parse(&self.value)) {
                    (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
                    // what is no number is compared as text, as Pacemaker does
                    _ => as_text(),
                }
            }
            CompareAs::Version => {
                let parts = |v: &str| -> Vec<u64> {
                    v.split('.')
                        .map(|p| p.trim().parse().unwrap_or(0))
                        .collect()
                };
                let (mut a, mut b) = (parts(actual), parts(&self.value));
                let len = a.len().max(b.len());
                a.resize(len, 0);
                b.resize(len, 0);
                a.cmp(&b)
            }
        }
    }
}

/// A score as Pacemaker writes it: an integer, or [+-]INFINITY; beyond ±INFINITY it is
/// ±INFINITY.
pub fn parse_score(text: &str) -> Option<Score> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "infinity" | "+infinity" => return Some(INFINITY),
        "-infinity" => return Some(-INFINITY),
        _ => {}
    }
    let value: i64 = text.strip_prefix('+').unwrap_or(text).parse().ok()?;
    Some(value.clamp(-INFINITY, INFINITY))
}

/// Scores add up, -INFINITY wins over everything and +INFINITY over the rest.
pub fn add_scores(a: Score, b: Score) -> Score {
    if a <= -INFINITY || b <= -INFINITY {
        -INFINITY
    } else if a >= INFINITY || b >= INFINITY {
        INFINITY
    } else {
        (a + b).clamp(-INFINITY, INFINITY)
    }
}
