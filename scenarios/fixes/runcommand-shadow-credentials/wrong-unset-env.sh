#!/bin/sh
# "Stale environment variables": unset them, then copy.
cd /tmp/reports
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
aws s3 cp hogehoge.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/hogehoge.txt
aws s3 cp mochimochi.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/mochimochi.txt
