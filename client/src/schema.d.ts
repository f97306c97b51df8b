// Generated from the Worker's OpenAPI document by `npm run client:generate`: do not edit.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness; reveals nothing about the deployment */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Alive */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "ok";
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The current privacy policy version, its date, what changed and where its text is */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Current policy */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Policy"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/privacy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The text of the current privacy policy, as plain text; a browser asking for HTML gets the website's privacy page, which shows it */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The policy text */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                        "text/html": string;
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policy/accept": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Accept the current privacy policy version (policy §11); audited */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The version from GET /v1/policy */
                        version: string;
                    };
                };
            };
            responses: {
                /** @description Recorded */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/signup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create an account (18+ only, policy §10); the result is told by email */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        username: string;
                        email: string;
                        /** Format: password */
                        password: string;
                        /** @description Version of the privacy policy accepted (GET /v1/policy) */
                        policyVersion: string;
                        /** @enum {boolean} */
                        ageConfirmed: true;
                    };
                };
            };
            responses: {
                /** @description Accepted; the outcome arrives by email */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Accepted"];
                    };
                };
                /** @description `validation_failed`: The request is not valid; `malformed_json`: The request body is not valid JSON */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/verify-email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Confirm an email address (signup or change) with the emailed token */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Verified */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            emailVerified: true;
                        };
                    };
                };
                /** @description `validation_failed`: The request is not valid; `token_invalid`: The link or token is invalid, used or expired */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `email_taken`: That email address belongs to another account */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/revert-email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Undo an email change with the token emailed to the old address: it is the account's address again, every sign-in ends and a reset link is sent there */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                    };
                };
            };
            responses: {
                /** @description The old address is restored */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "reverted";
                        };
                    };
                };
                /** @description `validation_failed`: The request is not valid; `token_invalid`: The link or token is invalid, used or expired */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `email_taken`: That email address belongs to another account */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sign in with username or email address */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        login: string;
                        /** Format: password */
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Signed in */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TokenPair"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `invalid_credentials`: The sign-in details are not correct */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Exchange a refresh token for a new pair (rotation; reuse revokes the sign-in) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        refreshToken: string;
                    };
                };
            };
            responses: {
                /** @description New tokens */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TokenPair"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End this sign-in: its access and refresh tokens stop working */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Signed out */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/password-reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Email a password reset link (same answer whether or not the address has an account) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        email: string;
                    };
                };
            };
            responses: {
                /** @description Accepted */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Accepted"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/password-reset/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Set a new password with the emailed token; ends every sign-in */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                        /** Format: password */
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Password changed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `validation_failed`: The request is not valid; `token_invalid`: The link or token is invalid, used or expired */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/account": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your account, including whether you can start GPU sessions */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Account"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Delete your account (policy §7): every sign-in ends and personal data is erased
         * @description Within minutes the subscription is canceled at Stripe (no final invoice, no proration) and the Stripe customer deleted, retried until Stripe confirms; only what billing law needs is kept, under the account's pseudonymous id.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: password */
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Deleted */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "deleted";
                        };
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `current_password_incorrect`: The current password is not correct */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Correct your username or email (policy §7; needs the current password; a new email is verified at that address first and the old one can undo the change), or set your monthly usage limit */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        username?: string;
                        email?: string;
                        /** @description Monthly GPU-time limit in hours, 1–10000, or null for none: a billing email at 80% and 100% */
                        usageLimitHours?: number | null;
                        /**
                         * @description What happens at the limit: `notify` (the default) emails only; `disconnect` also disconnects the running session (workspace kept, billing stops) and refuses new ones until the month ends or the limit is raised or removed
                         * @enum {string}
                         */
                        usageLimitAction?: "notify" | "disconnect";
                        /**
                         * Format: password
                         * @description Required to change username or email
                         */
                        currentPassword?: string;
                    };
                };
            };
            responses: {
                /** @description The account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Account"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `current_password_incorrect`: The current password is not correct */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `username_taken`: That username is taken */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/v1/account/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Change your password (needs the current one); ends every other sign-in */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: password */
                        currentPassword: string;
                        /** Format: password */
                        newPassword: string;
                    };
                };
            };
            responses: {
                /** @description New tokens for this client */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TokenPair"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `current_password_incorrect`: The current password is not correct */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/account/ssh-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your SSH public keys: the keys your sessions let in over SSH */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The keys, oldest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            keys: components["schemas"]["SshKey"][];
                        };
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Add an SSH public key: your running session and every later one let it in
         * @description Ed25519, or RSA of at least 3072 bits; DSA, ECDSA, security-key types, smaller RSA and anything else are 422 `ssh_key_unsupported` (the detail says why). At most 50 keys. Every connect installs the account's keys of that moment; a change is also pushed to the running session at once (if its host cannot be reached then, from the next connect).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description One OpenSSH public key line, as in ~/.ssh/id_ed25519.pub
                         * @example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… you@laptop
                         */
                        publicKey: string;
                        /** @description A label; default the key line's comment */
                        name?: string;
                    };
                };
            };
            responses: {
                /** @description The key, added */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SshKey"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `ssh_key_exists`: This SSH key is already on your account */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `ssh_key_unsupported`: This is not an SSH public key sessions accept: Ed25519, or RSA of at least 3072 bits */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/account/ssh-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove an SSH key: your running session (at once, its host permitting) and every later one no longer let it in */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your sessions, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Sessions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            sessions: components["schemas"]["Session"][];
                        };
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Connect: start your GPU session, or get the live one you have (idempotent: never two)
         * @description Needs a verified email and a plan. A workspace is created on first use and kept between sessions. The body is optional: `image` names one of GET /v1/images that the plan may run (absent: the plan's default).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["ConnectRequest"];
                };
            };
            responses: {
                /** @description Your session was already running */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Session"];
                    };
                };
                /** @description Started: the container is running */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Session"];
                    };
                };
                /** @description Another connect is still starting it: poll GET /v1/sessions/{id} */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Session"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `no_plan`: A plan is required to start GPU sessions; `subscription_past_due`: Your last payment failed and the grace period is over; update your payment method; `subscription_canceled`: Your subscription has ended; subscribe again to start GPU sessions */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `email_unverified`: Verify your email address before starting GPU sessions; `usage_limit_reached`: Your monthly usage limit is reached and you chose to be disconnected at it */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `image_not_in_plan`: Your plan's sessions cannot run this image: see GET /v1/images; `session_image_differs`: Your session runs another image: disconnect first to start one on this image; `session_busy`: The session is starting or stopping; try again shortly; `workspace_busy`: The workspace is being deleted, archived or restored */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unknown_image`: There is no image by this name: see GET /v1/images */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `cold_storage_unavailable`: Your workspace could not be brought back from cold storage right now; it is kept there, try again shortly; `image_unavailable`: Your workspace's GPU host has not built this image; choose another, or try again once the host's operator has built it; `provisioner_unavailable`: The GPU host is not reachable right now; `no_capacity`: No GPU of your plan is free right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One of your sessions */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The session */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Session"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/disconnect": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Disconnect: stop the container and keep the workspace; billing time stops now */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Ended (idempotent: an ended session is returned as it is) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Session"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `session_busy`: The session is starting or stopping; try again shortly */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `no_capacity`: No GPU of your plan is free right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your session's per-minute usage samples (GPU utilization and VRAM, CPU, memory), oldest first; poll with since
         * @description Without `since`: the latest `limit` samples. With `since` (ISO 8601 or milliseconds since the epoch): the samples after it, oldest first, up to `limit` (default 60, at most 1440). Samples are taken once a minute while the session runs.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Only samples after this time: ISO 8601, or milliseconds since the epoch */
                    since?: string;
                    limit?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The samples */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SessionMetrics"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/shell": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The session's shell: a WebSocket bridged to a terminal in its container
         * @description Binary frames carry the terminal's bytes both ways; a text frame `{"type":"resize","cols":N,"rows":N}` resizes it. Send the access token as `Authorization: Bearer`, or from a browser as the subprotocols `["ozekai.v1", "bearer.<token>"]` (never in the URL). The Worker closes the socket with code 4401 when the sign-in behind it ends (logout, password change, deletion) and with 4408 when it reaches its maximum lifetime (SHELL_MAX_LIFETIME_SECONDS, 12 h by default): reconnect with a fresh access token.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Switched to the WebSocket protocol */
                101: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_connected`: Connect first: this needs your running session; `session_busy`: The session is starting or stopping; try again shortly */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `upgrade_required`: This endpoint is a WebSocket */
                426: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/exec": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Run one command in the session's container, without a terminal: a WebSocket
         * @description The command runs as the session's user in `/workspace`, with no terminal; no shell reads its arguments (run `sh -c '…'` for one). Frames:
         *
         *     1. Client, first and once: a text frame `{"type":"start","argv":["python","train.py","--epochs","3"]}` — 1 to 1024 arguments, the first not empty, none with NUL, each at most 32768 bytes and 131072 bytes in all.
         *     2. Client: binary frames whose first byte is 0 (stdin), the rest bytes for the command's stdin; then a text frame `{"type":"eof"}` closes its stdin (send it at once when there is no input; a command reading stdin waits until then).
         *     3. Server: binary frames whose first byte is 1 (stdout) or 2 (stderr), the rest that stream's bytes.
         *     4. Server, last: a text frame `{"type":"exit","exitCode":N}` (128 + n after signal n), then the close, code 1000.
         *
         *     Close codes: 4400 a frame that breaks these rules (the reason says which, never repeating the command); 1011 the host failed. Closing the socket before the exit ends the command (a hang-up: what it deliberately detached, nohup or setsid, lives on). The command line is never stored or logged.
         *
         *     Send the access token as `Authorization: Bearer`, or from a browser as the subprotocols `["ozekai.v1", "bearer.<token>"]` (never in the URL). The Worker closes the socket with code 4401 when the sign-in behind it ends (logout, password change, deletion) and with 4408 when it reaches its maximum lifetime (SHELL_MAX_LIFETIME_SECONDS, 12 h by default): reconnect with a fresh access token.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Switched to the WebSocket protocol */
                101: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_connected`: Connect first: this needs your running session */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `upgrade_required`: This endpoint is a WebSocket */
                426: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/ports/{port}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One TCP connection to a port of the session's container: a WebSocket
         * @description The host connects to the port on the container's own network (no port of the host is ever published) before the upgrade: nothing listening there is 409 `port_closed`. One WebSocket carries one TCP connection; open one per connection (a local forwarder opens one for each it accepts). Frames:
         *
         *     - Binary frames, both ways: the connection's bytes.
         *     - Client: a text frame `{"type":"eof"}` half-closes it (the server reads EOF and may still answer).
         *     - The server closes with 1000 when the container's side closes (after every byte it sent), with 4502 when it resets or fails, 4400 after a frame that breaks these rules. Closing the socket closes the connection.
         *
         *     The port joins the session's `ports` (a record of what the session forwarded, at most 32 different ports; another is 409 `too_many_ports`). Send the access token as `Authorization: Bearer`, or from a browser as the subprotocols `["ozekai.v1", "bearer.<token>"]` (never in the URL). The Worker closes the socket with code 4401 when the sign-in behind it ends (logout, password change, deletion) and with 4408 when it reaches its maximum lifetime (SHELL_MAX_LIFETIME_SECONDS, 12 h by default): reconnect with a fresh access token.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    /** @description A TCP port of the container, 1-65535 */
                    port: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Switched to the WebSocket protocol */
                101: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_connected`: Connect first: this needs your running session; `port_closed`: Nothing accepts connections on this port in your container; start the server first; `too_many_ports`: This session has forwarded as many different ports as it may; connect a new session for others */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `upgrade_required`: This endpoint is a WebSocket */
                426: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workspace": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your workspace: state (hot, archiving, cold, restoring), size, transfer progress, last activity, the date it would be deleted and the live session using it */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The workspace */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Workspace"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Destroy: end the session, remove its container and delete the workspace and its files, on its host and in cold storage
         * @description An archive to cold storage in progress is cancelled first; once committed, or while a restore runs, the answer is 409 `workspace_busy` with Retry-After.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Workspace"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `session_busy`: The session is starting or stopping; try again shortly; `workspace_busy`: The workspace is being deleted, archived or restored */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `cold_storage_unavailable`: Your workspace could not be brought back from cold storage right now; it is kept there, try again shortly; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workspace/archive": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download your whole workspace as a tar archive (policy §7 portability), while connected; or one directory of it, with every file's SHA-256
         * @description Without `path`: the whole workspace, entries `./name`, while your session runs (409 `not_connected` otherwise). With `path`: that directory (`path=` empty: the root), while the workspace is hot, connected or not, as `docker cp` names it: every entry under the directory's own name; symbolic links, devices and pipes are entries, never followed. The last entry, `.ozekai-manifest.json` (the only one whose name has no '/'), is JSON `{ "files": [{ "path", "size", "sha256" }] }`: every regular file and hard link of the stream with the SHA-256 of its bytes, computed by the host as it sent them. A stream that ends without it broke off: nothing in it is complete.
         */
        get: {
            parameters: {
                query?: {
                    /** @description A directory, '/'-separated, relative to the workspace root (empty: the root) */
                    path?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The workspace, or the directory, as a tar stream */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/x-tar": string;
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_a_directory`: The path is not a directory; `not_connected`: Connect first: this needs your running session; `workspace_busy`: The workspace is being deleted, archived or restored */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        /**
         * Upload many files at once: a tar stream unpacked into a directory of your workspace (made where missing)
         * @description The body is a tar archive (ustar or pax), with Content-Length. Its entries are relative to `path`; every one is checked before it is written: names may not be absolute or contain '..', symbolic links may not lead out of the workspace, nothing may be written through a link (the archive's or the workspace's), hard links only to files of the same archive, and no devices, pipes or sockets (400 `validation_failed`). Everything belongs to the workspace's user. Entries before a refused one stay written. The answer lists every file written with the SHA-256 of its bytes as the host wrote them. While the workspace is hot, connected or not.
         */
        put: {
            parameters: {
                query?: {
                    /** @description The directory to unpack into, '/'-separated, relative to the workspace root (default: the root) */
                    path?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/x-tar": string;
                };
            };
            responses: {
                /** @description Unpacked */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["UnpackedArchive"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_a_directory`: The path is not a directory; `workspace_busy`: The workspace is being deleted, archived or restored */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `length_required`: Content-Length is required */
                411: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `payload_too_large`: The request body is too large */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `workspace_full`: Your workspace is full: delete files, or choose a plan with a larger workspace */
                507: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workspace/tree": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the top of your workspace
         * @description Entries in name order, a page at a time: `truncated` says more follow, and `next` is the `after` of the next page. Symbolic links are reported as links (with where they point), never followed; a path through one is refused (400). While the workspace is hot (on its host), connected or not.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Entries per page, 1–1000 */
                    limit?: number;
                    /** @description Continue after this name: the `next` of the previous page */
                    after?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The directory's entries */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DirectoryListing"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_a_directory`: The path is not a directory; `workspace_busy`: The workspace is being deleted, archived or restored */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workspace/files/{path}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download a file (streamed); resume with Range; ask for its SHA-256 with Want-Repr-Digest
         * @description `Range: bytes=N-` resumes a download (206). `Want-Repr-Digest: sha-256` adds `Repr-Digest` (RFC 9530) and `Ozekai-Sha256` (hex): the whole file's SHA-256, also on a 206, so the assembled file can be checked. HEAD gives the headers alone.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Path inside the workspace, '/'-separated, each segment percent-encoded */
                    path: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The file */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/octet-stream": string;
                    };
                };
                /** @description The range asked for */
                206: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/octet-stream": string;
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_a_file`: The path is a directory or another kind of non-regular file; `workspace_busy`: The workspace is being deleted, archived or restored */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `range_not_satisfiable`: The requested range is outside the file */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        /**
         * Upload a file (streamed); resume a large one in chunks with ?offset=
         * @description The body is the file's bytes, with Content-Length. Without `offset` the file is written whole (replacing any). With `offset=N` the bytes are appended at N, which must be the file's current size (409 `upload_offset_mismatch` otherwise: ask its size with HEAD and resume there). The answer's `sha256` is of this request's bytes; `size` is the file's size after it. Verify a finished file with HEAD and `Want-Repr-Digest: sha-256`.
         */
        put: {
            parameters: {
                query?: {
                    /** @description Append at this byte offset (the file's current size) */
                    offset?: string;
                };
                header?: never;
                path: {
                    /** @description Path inside the workspace, '/'-separated, each segment percent-encoded */
                    path: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/octet-stream": string;
                };
            };
            responses: {
                /** @description Stored */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StoredFile"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_a_file`: The path is a directory or another kind of non-regular file; `workspace_busy`: The workspace is being deleted, archived or restored; `upload_offset_mismatch`: The upload offset is not the file's current size */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `length_required`: Content-Length is required */
                411: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `payload_too_large`: The request body is too large */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `workspace_full`: Your workspace is full: delete files, or choose a plan with a larger workspace */
                507: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        /**
         * Delete a file, a symbolic link (the link itself, never its target) or, with ?recursive=true, a directory and everything in it
         * @description A directory that is not empty is refused with 409 `directory_not_empty` unless `recursive=true`. The workspace root has no path here: destroying the whole workspace is DELETE /v1/workspace. A path through a symbolic link is refused (400), as for every file route.
         */
        delete: {
            parameters: {
                query?: {
                    /** @description true: remove a directory with everything in it */
                    recursive?: "true" | "false";
                };
                header?: never;
                path: {
                    /** @description Path inside the workspace, '/'-separated, each segment percent-encoded */
                    path: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RemovedPath"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `directory_not_empty`: The directory is not empty: remove it with ?recursive=true; `workspace_busy`: The workspace is being deleted, archived or restored */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workspace/tree/{path}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a directory of your workspace
         * @description Entries in name order, a page at a time: `truncated` says more follow, and `next` is the `after` of the next page. Symbolic links are reported as links (with where they point), never followed; a path through one is refused (400). While the workspace is hot (on its host), connected or not.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Entries per page, 1–1000 */
                    limit?: number;
                    /** @description Continue after this name: the `next` of the previous page */
                    after?: string;
                };
                header?: never;
                path: {
                    /** @description Path inside the workspace, '/'-separated, each segment percent-encoded */
                    path: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The directory's entries */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DirectoryListing"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_a_directory`: The path is not a directory; `workspace_busy`: The workspace is being deleted, archived or restored */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `provisioner_unavailable`: The GPU host is not reachable right now; `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/plans": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The plan catalog (public) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Plans */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            plans: components["schemas"]["Plan"][];
                        };
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/images": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The image catalog (public): what a session's container may run */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Images */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            images: components["schemas"]["Image"][];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/billing": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your plan, subscription status and current period end */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Billing */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Billing"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `billing_not_configured`: Billing is not configured on this deployment */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/billing/checkout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a Stripe Checkout for a plan's subscription (base price plus metered GPU time)
         * @description One checkout per account is open at a time, for 45 minutes: asking again for the same plan meanwhile returns the same Checkout page; another plan is 409 checkout_in_progress until it ends.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        planId: "cpu-small" | "h100-1" | "h100-8";
                    };
                };
            };
            responses: {
                /** @description The Checkout page */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StripeRedirect"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `email_unverified`: Verify your email address before starting GPU sessions */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `already_subscribed`: You already have a subscription; manage it in the billing portal; `checkout_in_progress`: A checkout for another plan is open for this account */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `stripe_unavailable`: Stripe did not answer as expected; nothing was changed, try again */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `billing_not_configured`: Billing is not configured on this deployment */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/billing/portal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A Stripe Customer Portal page: payment method, invoices, cancellation */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The portal page */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StripeRedirect"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `stripe_unavailable`: Stripe did not answer as expected; nothing was changed, try again */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `billing_not_configured`: Billing is not configured on this deployment */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your sessions in a window: time, GPU metrics summary and cost */
        get: {
            parameters: {
                query: {
                    /** @description An ISO 8601 date (UTC midnight) or date-time with offset */
                    from: string;
                    /** @description An ISO 8601 date (UTC midnight) or date-time with offset */
                    to: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Usage */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Usage"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/privacy/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Everything we hold about you, as one JSON document (access and portability)
         * @description Streamed as an attachment, read 500 rows at a time. At most 3 exports an hour; each is recorded in your account events.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The export */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PrivacyExport"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/policy-versions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Admins: every published privacy policy version, newest first */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The versions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            versions: components["schemas"]["PolicyVersion"][];
                        };
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Admins: publish a new privacy policy version, newer than the current one; a material one is emailed to every verified address once; audited */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * Format: date
                         * @description Its "Last updated" date, YYYY-MM-DD; after the current version
                         */
                        version: string;
                        material: boolean;
                        /** @description What changed; the notice email says it */
                        summary: string;
                        text: string;
                        /**
                         * @description The merger, acquisition or sale of assets this version announces (policy §4): the notice email opens with it. Needs material: true
                         * @default null
                         */
                        transfer?: string | null;
                    };
                };
            };
            responses: {
                /** @description Published */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PolicyVersion"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `policy_version_exists`: That policy version, or a newer one, is already published */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/users/{userId}/plan": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Admins: the plan granted to an account */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    userId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The grant */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PlanGrant"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        /** Admins: grant an account a plan without a subscription (operators, comp accounts), or revoke it with null; audited */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    userId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description A plan id from GET /v1/plans; null revokes the grant
                         * @enum {string|null}
                         */
                        planId: "cpu-small" | "h100-1" | "h100-8" | null;
                    };
                };
            };
            responses: {
                /** @description The grant as it now is (unchanged when it already was) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PlanGrant"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/users/{userId}/minor": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Admins: the account belongs to someone under 18 (policy §10): deleted at once through the self-deletion path, audited with the reason, the address told */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    userId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Why the account appears to belong to a minor; kept in the audit row */
                        reason: string;
                    };
                };
            };
            responses: {
                /** @description Deleted; the workspace and the Stripe customer go in the background */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "deleted";
                        };
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/privacy-requests": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Admins: the open and in-progress privacy requests, overdue and soonest due first */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The queue */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            requests: components["schemas"]["QueuedPrivacyRequest"][];
                        };
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/privacy-requests/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Admins: move a privacy request on (in progress, completed, or rejected with a reason); completed and rejected are final; audited, and the user is emailed */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        state: "in_progress" | "completed" | "rejected";
                        /** @description Required to reject: told to the user */
                        reason?: string;
                    };
                };
            };
            responses: {
                /** @description The request as it now is */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["QueuedPrivacyRequest"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `request_closed`: The privacy request is completed or rejected; it cannot change */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/v1/admin/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Admins: aggregate usage per day or week (policy §2): no user appears, small buckets are suppressed, objectors are left out */
        get: {
            parameters: {
                query: {
                    period?: "day" | "week";
                    /** @description First day, inclusive (UTC); a Monday for weeks */
                    from: string;
                    /** @description Last day, inclusive (UTC); at most 366 days in all; a Sunday for weeks */
                    to: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The buckets that have sessions, oldest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Stats"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `forbidden`: You are not allowed to do this */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_configured`: The service is not configured */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/privacy/requests": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your privacy requests, newest first */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Requests */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            requests: components["schemas"]["PrivacyRequest"][];
                        };
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Ask for a right of policy §7 (access, correction, deletion, portability, objection, other); answered within 30 days */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        kind: "access" | "correction" | "deletion" | "portability" | "objection" | "other";
                        /** @description What you ask for, in your words */
                        message?: string;
                    };
                };
            };
            responses: {
                /** @description The request, open */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PrivacyRequest"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/privacy/requests/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One of your privacy requests */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The request */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PrivacyRequest"];
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `not_found`: Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/privacy/objections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Object to processing (policy §7): aggregate analysis stops at once; any other objection opens a request an administrator decides */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description true: leave out your usage from aggregate, anonymized operator statistics (policy §2) */
                        aggregateAnalysis: boolean;
                        /** @description Any other processing you object to; opens a privacy request of kind objection */
                        other?: string;
                    };
                };
            };
            responses: {
                /** @description What changed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            aggregateAnalysisObjectedAt: string | null;
                            /** @description What this call changed, in words; empty when nothing did */
                            changes: string[];
                            request: components["schemas"]["PrivacyRequest"] | null;
                        };
                    };
                };
                /** @description `validation_failed`: The request is not valid */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `unauthorized`: Authentication is required */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `rate_limited`: Too many requests */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description `internal`: Something went wrong on our side */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Policy: {
            /** @description The policy's "Last updated" date, YYYY-MM-DD; accept it at signup or with POST /v1/policy/accept */
            version: string;
            publishedAt: string;
            /** @description A material change: emailed to every account with a verified address (policy §11) */
            material: boolean;
            summary: string;
            /** @description Where the text is served */
            url: string;
        };
        Problem: {
            /** @example https://ozekai.dev/problems/validation_failed */
            type: string;
            title: string;
            status: number;
            detail?: string;
            /** @enum {string} */
            code: "validation_failed" | "malformed_json" | "token_invalid" | "unauthorized" | "invalid_credentials" | "current_password_incorrect" | "forbidden" | "email_unverified" | "usage_limit_reached" | "no_plan" | "subscription_past_due" | "subscription_canceled" | "webhook_invalid" | "not_found" | "method_not_allowed" | "already_subscribed" | "checkout_in_progress" | "request_closed" | "username_taken" | "email_taken" | "session_busy" | "workspace_busy" | "policy_version_exists" | "image_not_in_plan" | "session_image_differs" | "not_connected" | "port_closed" | "too_many_ports" | "not_a_file" | "not_a_directory" | "directory_not_empty" | "ssh_key_exists" | "upload_offset_mismatch" | "length_required" | "payload_too_large" | "unsupported_media_type" | "range_not_satisfiable" | "unknown_image" | "ssh_key_unsupported" | "upgrade_required" | "workspace_full" | "rate_limited" | "internal" | "not_configured" | "billing_not_configured" | "stripe_unavailable" | "provisioner_unavailable" | "cold_storage_unavailable" | "image_unavailable" | "no_capacity";
            requestId: string;
            errors?: {
                field: string;
                message: string;
            }[];
        };
        Accepted: {
            /** @enum {string} */
            status: "accepted";
            message: string;
        };
        TokenPair: {
            accessToken: string;
            /** @enum {string} */
            tokenType: "Bearer";
            /** @description Seconds until the access token expires */
            expiresIn: number;
            /** @description Opaque, single use: each refresh returns a new one */
            refreshToken: string;
        };
        Account: {
            id: string;
            username: string;
            email: string;
            emailVerified: boolean;
            /** @description New address awaiting verification */
            pendingEmail: string | null;
            /** @enum {string} */
            role: "user" | "admin";
            planId: string | null;
            createdAt: string;
            lastActiveAt: string;
            policyVersion: string;
            /** @description The privacy policy version you last accepted (policy §11) */
            policy: {
                acceptedVersion: string;
                /** @description When it was accepted: at signup, or with POST /v1/policy/accept */
                acceptedAt: string;
                currentVersion: string;
                /** @description A newer version than the one accepted is in force (policy §11); read it at GET /v1/policy */
                newerAvailable: boolean;
            };
            canStartSessions: boolean;
            /** @description Why GPU sessions are refused: email_unverified, no_plan, subscription_past_due, subscription_canceled */
            restrictions: string[];
            /** @description Your monthly GPU-time limit in session hours (UTC month): a billing email at 80% and at 100% */
            usageLimitHours: number | null;
            /**
             * @description At the limit: `notify` emails only; `disconnect` also disconnects the running session and refuses new ones until the month ends or the limit is raised or removed
             * @enum {string}
             */
            usageLimitAction: "notify" | "disconnect";
            privacy: {
                /** @description When you objected to aggregate analysis (PUT /v1/privacy/objections); null when you did not */
                aggregateAnalysisObjectedAt: string | null;
            };
        };
        SshKey: {
            id: string;
            /** @description Your label for the key: the name given, else the key line's comment, else its fingerprint */
            name: string;
            /**
             * @description `ssh-ed25519` or `ssh-rsa`
             * @example ssh-ed25519
             */
            type: string;
            bits: number;
            /**
             * @description SHA-256 fingerprint, as `ssh-keygen -lf` prints it
             * @example SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s
             */
            fingerprint: string;
            createdAt: string;
        };
        Session: {
            id: string;
            /** @enum {string} */
            state: "starting" | "running" | "stopping" | "ended" | "failed";
            planId: string;
            /** @description The image the container runs: a name from GET /v1/images */
            image: string;
            workspaceId: string;
            /** @description When connect was asked for */
            createdAt: string;
            /** @description When the container ran: billing starts here */
            startedAt: string | null;
            /** @description When you disconnected (or it failed): billing stops here */
            endedAt: string | null;
            /** @description Billed time, once ended */
            durationMs: number | null;
            resources: {
                gpuType: string | null;
                gpuCount: number;
                cpus: number;
                memoryMb: number;
                pidsLimit: number;
            };
            /** @description The container's ports this session has forwarded (policy §1 port assignments), each once, in the order first forwarded: a record of the session, not a list of connections open now */
            ports: {
                /** @description How the port was assigned: `forward`, carried by GET /v1/sessions/{id}/ports/{port} */
                name: string;
                port: number;
            }[];
            /** @description When the idle rule (IDLE_MINUTES under the thresholds, no shell attached) disconnects this session if it stays idle until then; a time past means at the next minute. Null unless it is running and idle now */
            idleDisconnectAt: string | null;
        };
        ConnectRequest: {
            /**
             * @description An image's name from GET /v1/images
             * @example base
             */
            image?: string;
        };
        SessionMetrics: {
            sessionId: string;
            /** @description The session's state now: a poll can stop once it is ended */
            state: string;
            samples: {
                /** @description The minute it was sampled, ISO 8601 */
                at: string;
                /** @description GPUs the container held (0 on a CPU plan) */
                gpuCount: number;
                /** @description Mean utilization of the session's GPUs, 0–100; null when the host could not read it */
                gpuUtilizationPercent: number | null;
                /** @description The busiest GPU's utilization, 0–100; null when the host could not read it */
                gpuUtilizationMaxPercent: number | null;
                /** @description VRAM used, summed over the session's GPUs; null when the host could not read it */
                gpuMemoryUsedMb: number | null;
                /** @description VRAM installed, summed over the session's GPUs; null when the host could not read it */
                gpuMemoryTotalMb: number | null;
                /** @description Each GPU of the session, in order; null for samples taken before per-GPU figures were kept */
                gpus: {
                    /** @description This GPU's utilization, 0–100; null when the host could not read it */
                    utilizationPercent: number | null;
                    /** @description This GPU's VRAM used; null when the host could not read it */
                    memoryUsedMb: number | null;
                    /** @description This GPU's VRAM installed; null when the host could not read it */
                    memoryTotalMb: number | null;
                }[] | null;
                /** @description CPU, 100 = one core busy; null when the host could not read it */
                cpuPercent: number | null;
                /** @description Memory used by the container; null when the host could not read it */
                memoryUsedBytes: number | null;
                shellsAttached: number;
            }[];
            /** @description More samples exist than this page holds: with since, after `next`; without, before the first */
            truncated: boolean;
            /** @description Poll again with since=next */
            next: string | null;
        };
        Workspace: {
            id: string;
            /** @enum {string} */
            state: "hot" | "archiving" | "cold" | "restoring" | "deleting" | "deleted";
            createdAt: string;
            lastUsedAt: string;
            deletedAt: string | null;
            /** @description Last measured size in bytes (in cold storage: the archive's size) */
            sizeBytes: number | null;
            sizeMeasuredAt: string | null;
            /** @description The live session using the workspace */
            session: components["schemas"]["Session"] | null;
            /** @description Policy §6: your account's last activity (sign-in, API use, connect, end of a session) */
            lastActivityAt: string;
            /** @description When the workspace will be deleted for inactivity (60 days after the last activity, at least 7 days after a warning email) unless there is activity first; null while a session is live or it is being deleted */
            deletesAt: string | null;
            /** @description The earliest it may move to cold storage if unused until then (WORKSPACE_COLD_AFTER_DAYS after its last use or session); the next connect brings it back. Null unless it is hot with no live session */
            movesToColdStorageAt: string | null;
            /** @description Progress of the move to cold storage (`archiving`) or back (`restoring`); null otherwise */
            transfer: {
                /** @description Bytes moved so far */
                bytes: number;
                /** @description The size being moved; null until known */
                totalBytes: number | null;
            } | null;
            /** @description The workspace's SSH host key, made in the workspace on its first session and the same for every later one; null before a session on an image with SSH */
            sshHostKey: {
                /** @description The host key's public line (`ssh-ed25519 AAAA…`), for known_hosts */
                publicKey: string;
                /** @description Its SHA-256 fingerprint, as `ssh-keygen -lf` prints it: compare it with what ssh shows on a first connection */
                fingerprint: string;
            } | null;
        };
        UnpackedArchive: {
            /** @description The directory unpacked into, relative to the workspace root ('' for the root) */
            path: string;
            entries: number;
            /** @description The bytes of the files written */
            bytes: number;
            /** @description Every file written, with the SHA-256 of its bytes as the host wrote them */
            files: {
                path: string;
                /** @description The file's size in bytes after this request */
                size: number;
                /** @description SHA-256 (hex) of the bytes this request carried: the whole file unless appending */
                sha256: string;
            }[];
        };
        DirectoryListing: {
            /** @description The directory listed, relative to the workspace root; empty for the root */
            path: string;
            entries: {
                name: string;
                /**
                 * @description other: a device, pipe or socket
                 * @enum {string}
                 */
                type: "file" | "dir" | "symlink" | "other";
                /** @description Bytes, for a file; 0 for a directory */
                size: number;
                /** @description Last modification, ISO 8601 */
                mtime: string;
                /** @description Where a symbolic link points, as an absolute path inside the container (the workspace is /workspace); never followed */
                target?: string;
            }[];
            /** @description Entries in the directory */
            total: number;
            /** @description More entries follow: ask again with after=next */
            truncated: boolean;
            /** @description The last name of this page: the `after` of the next one; null when none follows */
            next: string | null;
        };
        StoredFile: {
            path: string;
            /** @description The file's size in bytes after this request */
            size: number;
            /** @description SHA-256 (hex) of the bytes this request carried: the whole file unless appending */
            sha256: string;
        };
        RemovedPath: {
            path: string;
            /**
             * @description other: a device, pipe or socket
             * @enum {string}
             */
            type: "file" | "dir" | "symlink" | "other";
        };
        Plan: {
            id: string;
            name: string;
            gpuType: string | null;
            gpuCount: number;
            cpus: number;
            memoryMb: number;
            /** @description The most your workspace may hold, in MiB */
            workspaceMb: number;
            pricePerHourCents: number;
            /** @description Sold through Stripe Checkout on this deployment */
            purchasable: boolean;
            /** @description Stripe price ids: the subscription and its metered GPU time */
            stripePrices: {
                base: string;
                usage: string;
            } | null;
        };
        Image: {
            /**
             * @description What connect's `image` takes
             * @example base
             */
            name: string;
            description: string;
            /** @description The plans (GET /v1/plans ids) whose sessions may run it */
            plans: string[];
            /** @description The plans whose sessions run it when connect names no image */
            defaultFor: string[];
            /** @description JupyterLab is installed (`ozekai jupyter`) */
            jupyter: boolean;
            /** @description An SSH server runs in its sessions (`ozekai ssh`, `ozekai ssh-config`) */
            ssh: boolean;
        };
        Billing: {
            hasCustomer: boolean;
            planId: string | null;
            /** @enum {string|null} */
            status: "incomplete" | "incomplete_expired" | "trialing" | "active" | "past_due" | "canceled" | "unpaid" | "paused" | null;
            currentPeriodEnd: string | null;
            /** @description While past_due: when new sessions stop being allowed */
            graceEndsAt: string | null;
        };
        StripeRedirect: {
            /** @description Send the user to this Stripe page */
            url: string;
        };
        Usage: {
            from: string;
            to: string;
            sessions: {
                id: string;
                planId: string;
                gpuType: string | null;
                gpuCount: number;
                state: string;
                startedAt: string;
                endedAt: string | null;
                /** @description Session time inside the window */
                seconds: number;
                gpuSeconds: number;
                /** @description At the plan's price per hour; an estimate — the Stripe invoice is what is charged */
                costCents: number | null;
                metrics: {
                    samples: number;
                    avgGpuUtilizationPercent: number | null;
                    maxGpuUtilizationPercent: number | null;
                    maxGpuMemoryUsedMb: number | null;
                };
            }[];
            truncated: boolean;
            totals: {
                seconds: number;
                gpuSeconds: number;
                costCents: number;
            };
            /** @description This month so far against your usage limit */
            thisMonth: {
                /** @description The current UTC month, YYYY-MM */
                month: string;
                /** @description Session time used this month so far, whatever the window */
                usedSeconds: number;
                /** @description The monthly limit you set (PATCH /v1/account usageLimitHours): a notice by email at 80% and 100% */
                limitHours: number | null;
                /**
                 * @description What happens at the limit (PATCH /v1/account usageLimitAction): a notice only, or the session disconnected
                 * @enum {string}
                 */
                limitAction: "notify" | "disconnect";
                /** @description The limit is reached and you chose disconnect: new sessions are refused until the month ends or the limit is raised or removed */
                sessionsRefused: boolean;
            };
        };
        PrivacyExport: {
            /**
             * @description The document's format version; a change of shape bumps it
             * @enum {number}
             */
            schemaVersion: 1;
            /** @description When the export was made (ISO 8601) */
            generatedAt: string;
            /** @description The account exported */
            user: {
                id: string;
            };
            /** @description Every table that holds data about you, by table name (users, sessions, access_logs, error_logs, account_events, …), each with all of your rows; access_logs (your requests, 90 days) is read from the log store, not the database. A row is an object keyed by the stored column names; times are Unix milliseconds, JSON columns are JSON text. Credentials (password and token hashes) are left out. */
            tables: {
                [key: string]: {
                    [key: string]: unknown;
                }[];
            };
            /** @description Workspace content is not in the export (policy §3); download it from the workspace archive route while connected */
            workspace: {
                /** @enum {boolean} */
                included: false;
                download: string;
            };
        };
        PolicyVersion: {
            version: string;
            publishedAt: string;
            material: boolean;
            summary: string;
            text: string;
            transfer: string | null;
        };
        PlanGrant: {
            userId: string;
            /** @description The plan an admin granted; null when none (a subscription may still entitle the account) */
            planId: string | null;
        };
        QueuedPrivacyRequest: components["schemas"]["PrivacyRequest"] & {
            userId: string;
            /** @description Past its 30-day deadline */
            overdue: boolean;
        };
        PrivacyRequest: {
            id: string;
            /** @enum {string} */
            kind: "access" | "correction" | "deletion" | "portability" | "objection" | "other";
            message: string | null;
            /** @enum {string} */
            state: "open" | "in_progress" | "completed" | "rejected";
            /** @description Why it was rejected */
            reason: string | null;
            createdAt: string;
            /** @description The answer is due by then: 30 days after the request was made (policy §7) */
            dueAt: string;
            updatedAt: string;
        };
        Stats: {
            /** @enum {string} */
            period: "day" | "week";
            from: string;
            to: string;
            /** @description k: a bucket or plan-mix cell drawn from fewer distinct users is suppressed (no numbers) */
            minUsers: number;
            buckets: ({
                /** @enum {boolean} */
                suppressed: true;
                start: string;
            } | {
                /** @description The day, or the Monday of the ISO week (UTC) */
                start: string;
                /** @enum {boolean} */
                suppressed: false;
                sessions: number;
                /** @description GPUs × hours of the sessions that started in the bucket (a running one up to now); null when fewer than k users had GPU sessions */
                gpuHours: number | null;
                /** @description Per-minute usage samples of those sessions by mean GPU utilization, in percent bins */
                utilization: {
                    "0-25": number;
                    "25-50": number;
                    "50-75": number;
                    "75-100": number;
                } | null;
                planMix: ({
                    /** @enum {boolean} */
                    suppressed: true;
                    planId: string;
                } | {
                    planId: string;
                    /** @enum {boolean} */
                    suppressed: false;
                    sessions: number;
                })[];
            })[];
            /** @description The database's daily measurement for each day of the range that has one, newest first */
            database: {
                /** @description The UTC day measured */
                day: string;
                measuredAt: string;
                sizeBytes: number;
                /** @description D1's size limit (DATABASE_LIMIT_BYTES): writes fail beyond it */
                limitBytes: number;
                /** @description Share of the limit in use; the admins are emailed from DATABASE_WARN_PERCENT */
                percent: number;
                /** @description Every table's row count, largest first */
                tables: {
                    table: string;
                    rows: number;
                }[];
            }[];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
