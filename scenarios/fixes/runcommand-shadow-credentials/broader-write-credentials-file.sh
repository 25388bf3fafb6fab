#!/bin/sh
# The role's current credentials written into root's credentials file.
cd /tmp/reports
ROLE_NAME=$(curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/)
CREDS=$(curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/$ROLE_NAME)
aws configure set aws_access_key_id "$(echo "$CREDS" | grep AccessKeyId | cut -d'"' -f4)"
aws configure set aws_secret_access_key "$(echo "$CREDS" | grep SecretAccessKey | cut -d'"' -f4)"
aws configure set aws_session_token "$(echo "$CREDS" | grep Token | cut -d'"' -f4)"
aws s3 cp hogehoge.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/hogehoge.txt
aws s3 cp mochimochi.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/mochimochi.txt
