fn main(){ python4r_build::configure(); }
