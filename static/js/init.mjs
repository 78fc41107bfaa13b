// Starts GOV.UK Frontend's components (error summary focus, service navigation
// toggle, notification banners, character counts...). Loaded as a module from
// base.html, so it runs only in browsers that govuk-frontend supports; the
// path is relative to this file: static/js/ -> static/vendor/.
import { initAll } from "../vendor/govuk-frontend.min.js";

initAll();
