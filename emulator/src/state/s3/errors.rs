//! S3's errors, with S3's codes, statuses and messages (S3 API reference, "List of error codes";
//! the messages as the AWS CLI prints them in public reports, or as S3 gateways that mirror S3
//! word them where no report was found).

use crate::error::AwsError;

pub fn access_denied() -> AwsError {
    AwsError::new("AccessDenied", 403, "Access Denied")
}

pub fn no_such_bucket() -> AwsError {
    AwsError::new("NoSuchBucket", 404, "The specified bucket does not exist")
}

pub fn no_such_key() -> AwsError {
    AwsError::new("NoSuchKey", 404, "The specified key does not exist.")
}

pub fn no_such_bucket_policy() -> AwsError {
    AwsError::new("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
}

pub fn bucket_not_empty() -> AwsError {
    AwsError::new("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
}

pub fn bucket_already_exists() -> AwsError {
    AwsError::new(
        "BucketAlreadyExists",
        409,
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
    )
}

pub fn bucket_already_owned_by_you() -> AwsError {
    AwsError::new(
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
    )
}

pub fn invalid_bucket_name() -> AwsError {
    AwsError::new("InvalidBucketName", 400, "The specified bucket is not valid.")
}

pub fn invalid_location_constraint() -> AwsError {
    AwsError::new("InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
}

/// A constraint (or none, `unspecified`) that the region of the endpoint cannot create.
pub fn illegal_location_constraint(constraint: Option<&str>) -> AwsError {
    AwsError::new(
        "IllegalLocationConstraintException",
        400,
        format!(
            "The {} location constraint is incompatible for the region specific endpoint this request was sent to.",
            constraint.unwrap_or("unspecified")
        ),
    )
}

/// The bucket-policy operations are for the bucket owner's account only (S3 API reference,
/// GetBucketPolicy: "405 Method Not Allowed" for an identity of another account).
pub fn method_not_allowed() -> AwsError {
    AwsError::new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
}

pub fn malformed_policy(message: impl Into<String>) -> AwsError {
    AwsError::new("MalformedPolicy", 400, message)
}

pub fn invalid_argument(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidArgument", 400, message)
}

pub fn invalid_request(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidRequest", 400, message)
}

pub fn bad_digest(message: impl Into<String>) -> AwsError {
    AwsError::new("BadDigest", 400, message)
}

pub fn invalid_digest() -> AwsError {
    AwsError::new("InvalidDigest", 400, "The Content-MD5 you specified was invalid.")
}

pub fn key_too_long() -> AwsError {
    AwsError::new("KeyTooLongError", 400, "Your key is too long")
}
