export { Scene, PerspectiveCamera, OrthographicCamera, WebGLRenderer, WebGLRenderTarget, BufferGeometry, BufferAttribute, Points, PointsMaterial, Color, Raycaster, Vector2, Vector3, Line, LineBasicMaterial, Mesh, PlaneGeometry, SphereGeometry, MeshBasicMaterial, AdditiveBlending } from "three";
export { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
