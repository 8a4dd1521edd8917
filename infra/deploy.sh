#!/usr/bin/env bash
# Deploy a packaged stage with CloudFormation, then make sure the bootstrap admin
# key exists. `make deploy STAGE=prod` packages first and puts .venv (with the
# AWS CLI) first on PATH.
#
#   infra/deploy.sh STAGE [BUILD_DIR]      (BUILD_DIR defaults to build/STAGE)
#
# Settings, from the environment:
#   CITYBRAIN_ARTIFACTS_BUCKET   required: S3 bucket (in the stack's region) that receives the zips
#   AWS_REGION                   required (or AWS_DEFAULT_REGION)
#   CITYBRAIN_STACK_NAME         default citybrain-STAGE
#   CITYBRAIN_ALARM_EMAIL        optional: address subscribed to the operations alarms
#   CITYBRAIN_ANCHOR_RETENTION_DAYS  optional: Object Lock (compliance) retention of the audit anchors, days (3650)
#   CITYBRAIN_API_VPC_ENDPOINT   a stage with a private API (gov): the VPC interface endpoint
#                                (execute-api, vpce-…) the government extranet reaches the API through
#   CITYBRAIN_S3_VPC_ENDPOINT    a stage with a private API (gov): the VPC endpoint for S3 (vpce-…)
#   CITYBRAIN_ADMIN_KEY          optional: the admin key to install; on a first deploy
#                                without it, one is generated and printed once
#   DRY_RUN=1                    print the commands instead of running them
# Credentials are the AWS CLI's usual ones (AWS_PROFILE, instance role, ...).
set -euo pipefail

stage=${1:?usage: infra/deploy.sh STAGE [BUILD_DIR]}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -m "${2:-$root/build/$stage}")
dry_run=${DRY_RUN:-0}

missing=()
bucket=${CITYBRAIN_ARTIFACTS_BUCKET:-}
[ -n "$bucket" ] || missing+=("CITYBRAIN_ARTIFACTS_BUCKET: the S3 bucket that receives the deployment zips")
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
[ -n "$region" ] || missing+=("AWS_REGION (or AWS_DEFAULT_REGION): the region to deploy to")
if [ ${#missing[@]} -gt 0 ]; then
    printf 'deploy.sh: set %s\n' "${missing[@]}" >&2
    exit 2
fi
stack=${CITYBRAIN_STACK_NAME:-citybrain-$stage}
[ -f "$build/sam.json" ] || { echo "deploy.sh: no $build/sam.json; run make package STAGE=$stage" >&2; exit 2; }
# A private API's template asks for the extranet's endpoints (infra/template.py, government network).
private=0
grep -q '"ApiVpcEndpointId"' "$build/sam.json" && private=1
if [ "$private" = 1 ]; then
    [ -n "${CITYBRAIN_API_VPC_ENDPOINT:-}" ] || missing+=("CITYBRAIN_API_VPC_ENDPOINT: the execute-api VPC endpoint (vpce-…) of the government extranet")
    [ -n "${CITYBRAIN_S3_VPC_ENDPOINT:-}" ] || missing+=("CITYBRAIN_S3_VPC_ENDPOINT: the S3 VPC endpoint (vpce-…) of the government extranet")
    if [ ${#missing[@]} -gt 0 ]; then
        echo "deploy.sh: stage $stage has a private API (the government extranet's):" >&2
        printf 'deploy.sh: set %s\n' "${missing[@]}" >&2
        exit 2
    fi
fi
if [ "$dry_run" != 1 ]; then
    command -v aws >/dev/null || { echo "deploy.sh: aws CLI not found; make venv installs it (requirements-dev.txt)" >&2; exit 2; }
fi

run() {
    if [ "$dry_run" = 1 ]; then printf '%q ' "$@" | sed 's/ $//'; echo; else "$@"; fi
}

parameters=()
[ -z "${CITYBRAIN_ALARM_EMAIL:-}" ] || parameters=(--parameter-overrides "AlarmEmail=$CITYBRAIN_ALARM_EMAIL")
if [ -n "${CITYBRAIN_ANCHOR_RETENTION_DAYS:-}" ]; then
    [ ${#parameters[@]} -gt 0 ] || parameters=(--parameter-overrides)
    parameters+=("AnchorRetentionDays=$CITYBRAIN_ANCHOR_RETENTION_DAYS")
fi
if [ "$private" = 1 ]; then
    [ ${#parameters[@]} -gt 0 ] || parameters=(--parameter-overrides)
    parameters+=("ApiVpcEndpointId=$CITYBRAIN_API_VPC_ENDPOINT" "S3VpcEndpointId=$CITYBRAIN_S3_VPC_ENDPOINT")
fi

run aws cloudformation package --region "$region" --template-file "$build/sam.json" \
    --s3-bucket "$bucket" --s3-prefix "$stack" --use-json --output-template-file "$build/packaged.json"
# The template is over CloudFormation's 51,200-byte inline limit: deploy uploads it to the bucket too.
run aws cloudformation deploy --region "$region" --template-file "$build/packaged.json" --stack-name "$stack" \
    --s3-bucket "$bucket" --s3-prefix "$stack" --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
    --tags "app=citybrain" "stage=$stage" ${parameters[@]+"${parameters[@]}"}
(cd "$root" && run python -m infra.deploy ensure-admin --stack "$stack" --region "$region")
