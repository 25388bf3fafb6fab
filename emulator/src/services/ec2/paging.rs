//! Paging of EC2's describe operations: `MaxResults` and `NextToken` (botocore ec2 2016-11-15,
//! its paginators: `DescribeInstances`, `DescribeImages`, `DescribeLaunchTemplates`). Without
//! `MaxResults` every match is answered in one page; with it, at most that many items and a
//! `nextToken` while more remain. The token is the position to go on from.
//!
//! Facts: a `MaxResults` under 5 for `DescribeInstances` is `InvalidParameterValue` "Value ( 1 )
//! for parameter maxResults is invalid. Expecting a value greater than 5." (aws-sdk-ruby pull
//! 2575); `DescribeInstances` with both instance ids and `MaxResults` is
//! `InvalidParameterCombination` "The parameter instancesSet cannot be used with the parameter
//! maxResults" (moto issue 6282); a token EC2 cannot read is `InvalidParameterValue` "Value ( t )
//! for parameter NextToken is invalid. The token is invalid." (boto3 issue 2673, DescribeVpcs);
//! `DescribeLaunchTemplates` takes 1 to 200 (the model).
//!
//! Chosen, unconfirmed: `DescribeImages` takes 5 to 1000 as `DescribeInstances` does (the EC2
//! reference's general range) and with image ids too; above the most, the text "Expecting a
//! value less than <most>."; out of `DescribeLaunchTemplates`' range, "Expecting a value between
//! 1 and 200."; `DescribeInstances` counts instances, not reservations, so one reservation may
//! be split over two pages.

use crate::{error::AwsError, value::Value};

use super::decode::{integer, text};

/// An operation's bounds for `MaxResults`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounds {
    pub least: i64,
    pub most: i64,
}

pub(super) const INSTANCES: Bounds = Bounds { least: 5, most: 1000 };
pub(super) const IMAGES: Bounds = Bounds { least: 5, most: 1000 };
pub(super) const LAUNCH_TEMPLATES: Bounds = Bounds { least: 1, most: 200 };

/// The page a request asked for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Page {
    size: Option<usize>,
    start: usize,
}

/// `MaxResults` and `NextToken`, checked against `bounds`.
pub(super) fn page_request(params: &Value, bounds: Bounds) -> Result<Page, AwsError> {
    let size = match integer(params, "MaxResults")? {
        None => None,
        Some(n) if n < bounds.least || n > bounds.most => {
            let expecting = if bounds.least == 1 {
                format!("Expecting a value between {} and {}.", bounds.least, bounds.most)
            } else if n < bounds.least {
                format!("Expecting a value greater than {}.", bounds.least)
            } else {
                format!("Expecting a value less than {}.", bounds.most)
            };
            return Err(AwsError::invalid_parameter_value(format!(
                "Value ( {n} ) for parameter maxResults is invalid. {expecting}"
            )));
        }
        Some(n) => usize::try_from(n).ok(),
    };
    let start = match text(params, "NextToken") {
        None => 0,
        Some(token) => token.parse::<usize>().map_err(|_| {
            AwsError::invalid_parameter_value(format!("Value ( {token} ) for parameter NextToken is invalid. The token is invalid."))
        })?,
    };
    Ok(Page { size, start })
}

impl Page {
    /// Whether the request asked for pages (`MaxResults` given).
    pub(super) fn is_paged(&self) -> bool {
        self.size.is_some()
    }

    /// This page of `items` and the token of the next, if more remain.
    pub(super) fn of<T>(&self, items: Vec<T>) -> (Vec<T>, Option<String>) {
        let total = items.len();
        let start = self.start.min(total);
        let end = self.size.map_or(total, |size| (start + size).min(total));
        let next = (end < total).then(|| end.to_string());
        (items.into_iter().skip(start).take(end - start).collect(), next)
    }
}
