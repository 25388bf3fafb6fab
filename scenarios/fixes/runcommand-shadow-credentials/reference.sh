#!/bin/sh
# The report's fix: the instance role's credentials from instance metadata, exported before the copy.
cd /tmp/reports
# IAM role credentials (no jq)
ROLE_NAME=$(curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/)
CREDS=$(curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/$ROLE_NAME)
export AWS_ACCESS_KEY_ID=$(echo "$CREDS" | grep AccessKeyId | cut -d'"' -f4)
export AWS_SECRET_ACCESS_KEY=$(echo "$CREDS" | grep SecretAccessKey | cut -d'"' -f4)
export AWS_SESSION_TOKEN=$(echo "$CREDS" | grep Token | cut -d'"' -f4)
# Upload to S3
aws s3 cp hogehoge.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/hogehoge.txt
aws s3 cp mochimochi.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/mochimochi.txt
