// web/app/js/report.js - placeholder
import { start } from './shell.js';
start(location.pathname);
