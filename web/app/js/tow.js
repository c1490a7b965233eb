// web/app/js/tow.js - placeholder
import { start } from './shell.js';
start(location.pathname);
