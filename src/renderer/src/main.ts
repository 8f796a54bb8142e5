// Renderer entry: picks the transport (Electron preload or WebSocket), then mounts the dashboard.
import { createApp } from 'vue';
import App from './App.vue';
import { initApi } from './api/transport';
import './styles.css';

initApi();
createApp(App).mount('#app');
