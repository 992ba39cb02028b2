"""Static checks: models are resolved, and policies checked against them, before any run.

Never raises; returns diagnostics, all of them, not only the first.
"""

from policyengine.frontend.checker.defines import declare as declare
from policyengine.frontend.checker.models import build_model as build_model
from policyengine.frontend.checker.policies import CheckedFile as CheckedFile
from policyengine.frontend.checker.policies import check_policy_file as check_policy_file
from policyengine.frontend.checker.policies import duplicate_rules as duplicate_rules
