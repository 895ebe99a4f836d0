// Test guest: a check through the JavaScript SDK's defineCheck; MODE chooses
// the verdict or the mistake (see tests/tests/sdk_errors.rs).

import { defineCheck, requireVar, verdict } from 'scope-step';

export const check = defineCheck(() => {
  const mode = requireVar('MODE');
  switch (mode) {
    case 'fail':
      return verdict('fail', 'alias main points to a missing version', { alias: 'main', version: 7 }, ['publish version 7 again']);
    case 'bogus-status':
      return verdict('broken', 'never');
    case 'not-a-verdict':
      return { ok: true };
    default:
      return verdict('pass', `mode ${mode}`);
  }
});
