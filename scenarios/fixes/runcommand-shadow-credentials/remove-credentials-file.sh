#!/bin/sh
# Root's stale credentials file removed: the CLI falls through to the instance role.
cd /tmp/reports
rm -f /root/.aws/credentials
aws s3 cp hogehoge.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/hogehoge.txt
aws s3 cp mochimochi.txt s3://${Bucket}/$AWS_SSM_INSTANCE_ID/mochimochi.txt
