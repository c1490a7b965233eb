// web/app/js/stats.js - placeholder
import { start } from './shell.js';
start(location.pathname);
