# Kept for older instructions: use scripts/node22.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/node22.sh"
