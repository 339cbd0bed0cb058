#!/bin/bash
# The API suite (web_suite.sh) through apache, configured with deploy/apache/.
STACK_WEB=apache
export STACK_WEB
. "$(dirname "$0")/web_suite.sh"
