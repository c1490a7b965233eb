// web/app/js/case.js - placeholder
import { start } from './shell.js';
start(location.pathname);
