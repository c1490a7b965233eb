// web/app/js/crew.js - placeholder
import { start } from './shell.js';
start(location.pathname);
