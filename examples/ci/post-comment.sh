#!/bin/sh
# examples/ci/post-comment.sh — posts FILE (perf-gate.sh's comment.md) on
# the pull request (GitHub) or merge request (GitLab) of this pipeline,
# editing the comment a previous run posted (found by the marker line
# "<!-- lightning-perf-comment -->" it starts with) instead of adding
# another. Needs curl and jq.
#
#   post-comment.sh github FILE   GITHUB_API_URL, GITHUB_REPOSITORY,
#                                 GITHUB_TOKEN, PR_NUMBER
#   post-comment.sh gitlab FILE   CI_API_V4_URL, CI_PROJECT_ID,
#                                 CI_MERGE_REQUEST_IID, PERF_COMMENT_TOKEN
#                                 (a project access token with api scope)
# Outside a pull/merge request it says so and exits 0: nothing to post to.
set -eu
[ $# -eq 2 ] || { echo "usage: post-comment.sh github|gitlab FILE" >&2; exit 2; }
forge=$1 file=$2
[ -r "$file" ] || { echo "post-comment: cannot read $file" >&2; exit 2; }
marker='<!-- lightning-perf-comment -->'
body=$(jq -Rs '{body: .}' <"$file")
case $forge in
github)
    if [ -z "${PR_NUMBER:-}" ]; then echo "post-comment: not a pull request; not posted"; exit 0; fi
    api="${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY"
    auth="Authorization: Bearer $GITHUB_TOKEN"
    id=$(curl -fsS -H "$auth" "$api/issues/$PR_NUMBER/comments?per_page=100" |
        jq -r --arg m "$marker" '[.[] | select(.body | startswith($m))][0].id // empty')
    if [ -n "$id" ]; then
        curl -fsS -X PATCH -H "$auth" -H 'Content-Type: application/json' \
            "$api/issues/comments/$id" -d "$body" >/dev/null
        echo "post-comment: updated comment $id on pull request $PR_NUMBER"
    else
        curl -fsS -X POST -H "$auth" -H 'Content-Type: application/json' \
            "$api/issues/$PR_NUMBER/comments" -d "$body" >/dev/null
        echo "post-comment: commented on pull request $PR_NUMBER"
    fi
    ;;
gitlab)
    if [ -z "${CI_MERGE_REQUEST_IID:-}" ]; then echo "post-comment: not a merge request; not posted"; exit 0; fi
    api="$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"
    auth="PRIVATE-TOKEN: $PERF_COMMENT_TOKEN"
    id=$(curl -fsS -H "$auth" "$api?per_page=100" |
        jq -r --arg m "$marker" '[.[] | select(.body | startswith($m))][0].id // empty')
    if [ -n "$id" ]; then
        curl -fsS -X PUT -H "$auth" -H 'Content-Type: application/json' "$api/$id" \
            -d "$body" >/dev/null
        echo "post-comment: updated note $id on merge request $CI_MERGE_REQUEST_IID"
    else
        curl -fsS -X POST -H "$auth" -H 'Content-Type: application/json' "$api" \
            -d "$body" >/dev/null
        echo "post-comment: commented on merge request $CI_MERGE_REQUEST_IID"
    fi
    ;;
*) echo "post-comment: unknown forge '$forge' (github or gitlab)" >&2; exit 2 ;;
esac
