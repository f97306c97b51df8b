/** Accounts: sign-up, sign-in and tokens, the account itself, and what an admin grants. */
export { signup } from "./signup";
export { changePassword, confirmPasswordReset, login, logout, type Principal, refresh, requestPasswordReset, authenticate, type TokenPair } from "./auth";
export { type AccountView, deleteAccount, getAccount, revertEmailChange, updateAccount, verifyEmail } from "./account";
export { emailField, normalizeEmail, normalizeUsername, usageLimitActionField, usageLimitField, usernameField } from "./fields";
export { deleteMinorAccount, getPlanGrant, setPlanGrant } from "./admin";
export { liveSignIn, SIGN_IN_CACHE_MS } from "./sign-ins";
export { addSshKey, listSshKeys, MAX_SSH_KEYS, removeSshKey, type SshKeyView } from "./ssh-keys";
