/*
 * pcsurvey-nhsuk.js: starts nhsuk-frontend's own JavaScript (an ES module;
 * deploy/dev-stack.sh copies node_modules/nhsuk-frontend/dist/nhsuk/
 * nhsuk-frontend.min.js to /assets/).  Loaded by every page as
 * <script type="module"> after pcsurvey.js, which has already added
 * "nhsuk-frontend-supported" to <body>; a file rather than the template's
 * inline script because the CSP allows no inline script.  It drives the
 * components marked data-module="nhsuk-...": error summary (focus, links
 * that focus their field), skip link, radios and checkboxes (conditional
 * reveals, "None of these"), character count, buttons, header.  Pages
 * work without it: everything is validated on the server.
 */
import { initAll } from '/assets/nhsuk-frontend.min.js';

initAll();
