#!/bin/sh
# The credentials file switched off for this script only: the CLI falls through to the instance role.
cd /tmp/reports
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws s3 cp hogehoge.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/hogehoge.txt
aws s3 cp mochimochi.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/mochimochi.txt
