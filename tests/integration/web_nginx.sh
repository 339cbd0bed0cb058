#!/bin/bash
# The API suite (web_suite.sh) through nginx, configured with deploy/nginx/.
STACK_WEB=nginx
export STACK_WEB
. "$(dirname "$0")/web_suite.sh"
