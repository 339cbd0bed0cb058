#!/bin/bash
# The API suite (web_suite.sh) through lighttpd, configured with deploy/lighttpd/.
STACK_WEB=lighttpd
export STACK_WEB
. "$(dirname "$0")/web_suite.sh"
